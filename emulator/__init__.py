"""The offline twin of an Azure AI Language resource and of the Custom NER container.

``emulator.ner`` is the engine (train, evaluate, export, predict); the emulated cloud and the
reimplemented container are built on it.
"""
