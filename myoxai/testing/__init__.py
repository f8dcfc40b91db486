"""Test and benchmark support shipped with the package: emulated hardware (``bled112_emulator``)."""
