"""BioPatRec's Motion Test.

``scoring`` holds pure functions over a decision stream, ``session`` a live run over an engine, and
``figure`` the confusion and timing plot.
"""
