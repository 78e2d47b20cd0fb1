# The names of the acks (MicroappSdkAck, structs.h:82-123, by number) and of our signal codes,
# each list as one text: a board that needs them at every tick (the SDK's error texts) holds two
# strings, where a tuple of names would cost it an object per name. protocol.py builds its
# tuples from these. Runs under MicroPython and CPython.
ACKS = ("SUCCESS NO_REQUEST REQUEST IN_PROGRESS ERROR ERR_NOT_FOUND ERR_UNDEFINED ERR_NO_SPACE "
        "ERR_NOT_IMPLEMENTED ERR_BUSY ERR_OUT_OF_RANGE ERR_DISABLED ERR_EMPTY ERR_TOO_LARGE "
        "ERR_ALREADY_EXISTS ERR_WRONG_PARAM ERR_TIMEOUT")
SIGNALS = "NONE THROTTLED BUSY QUEUE_FULL HANDLER_FAULT WATCHDOG APP_FAULT GATED CPU_BUSY"


def nth(text, i):
    """The i-th name of `text`; None past either end."""
    names = text.split()
    return names[i] if 0 <= i < len(names) else None
