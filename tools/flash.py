"""Put the microapp firmware and microapps on a MicroPython board (docs/flashing.md).

    python tools/flash.py firmware --port URL [--romfs] [--hex FILE --board pca10040]
    python tools/flash.py app APP.py --port URL [--slot N]
    python tools/flash.py info|enable|disable|remove --port URL [--slot N]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from host.flashing.cli import main  # noqa: E402  (after the path set-up above)

if __name__ == "__main__":
    sys.exit(main())
