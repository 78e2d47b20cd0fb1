# What the loader gives an app for a module on a board (sys, micropython; firmware/loader.py), in
# a module of its own: a view's __class__ leads an app to these globals, which hold nothing else.
# Imported at the first view (microapp.py's _Lazy._View). Runs under MicroPython and CPython.


class _View:
    """What an app gets for a module: the names it may use, no path back to the module."""

    def __init__(self, name, names):
        self.__name__ = name
        for key, value in names:
            setattr(self, key, value)
