# Turn a microapp's source into its entry points, with `import microapp` resolving to the SDK
# and print() sending log requests. Runs under MicroPython and CPython.
import sys

from firmware import microapp


def _nothing():
    pass


def load_app(code, name="microapp_app"):
    """Execute the app's code (source text or a code object); return (setup, loop)."""
    sys.modules["microapp"] = microapp
    microapp.bind(None)
    namespace = {"__name__": name, "print": microapp.log}
    exec(code, namespace)
    return namespace.get("setup", _nothing), namespace.get("loop", _nothing)
