# What a microapp gets for `import microapp` (firmware/loader.py): the SDK's public names and no
# more, in a module of its own (so that `from microapp import *` works on MicroPython too): no
# bind(), no runtime. Runs under MicroPython and CPython.
from firmware.microapp import *  # noqa: F403

del bind  # noqa: F821 - the link's, not the app's
