# The loader's view of the app store (firmware/app_store.py): the enabled app. Apart
# from the store so that a boot does not load the store's control commands (tools/flash.py's):
# every name a loaded module brings stays in the board's heap for good.
# Runs under MicroPython (and CPython, for tests).
import json

from shared_buffers.serial_frame import crc16  # CRC-16/CCITT, init 0xFFFF: bluenet's app check



def enabled_app(root="apps", max_apps=1):  # the store's DEFAULT_ROOT, MAX_APPS
    """(slot, app) of the app to run: the first slot that is enabled, validated, has no fault
    flag and whose bytes still match its CRC; None when there is none. The app is its source
    text (header line included) or, precompiled, its ROMFS image (a view of the bytes read)."""
    for slot in range(max_apps):
        try:
            with open("%s/%d.meta" % (root, slot)) as f:
                meta = json.load(f)
        except (OSError, ValueError):
            continue
        size = meta.get("size", 0)
        if not (meta.get("enabled") and meta.get("validated")) or meta.get("flags"):
            continue
        try:
            with open("%s/%d.app" % (root, slot), "rb") as f:
                data = f.read(size)
        except OSError:
            continue
        if len(data) == size and crc16(data, 0, None, 0xFFFF) == meta.get("crc"):
            # after its header line an app is source text, or precompiled (tools/flash.py app):
            # a ROMFS image holding its .mpy (firmware/loader.py runs it in place), which starts
            # with ROMFS's magic bytes
            body = data.find(b"\n") + 1
            if data[body:body + 3] == b"\xd2\xcd\x31":
                return slot, memoryview(data)[body:]
            try:
                return slot, data.decode()
            except UnicodeError:
                continue
    return None
