# What CPython lacks of the nrf port's `micropython` and `time` modules, for the simulator's
# views of them (firmware/loader.py); not loaded on a board, which has both.
import time


class _MicroPythonShim:
    # CPython has no `micropython` module: what an app uses of it, as no-ops.
    opt_level = 0

    @staticmethod
    def const(x):
        return x

    @staticmethod
    def native(f):
        return f

    viper = native


class _TimeShim:
    # MicroPython's time functions CPython's time has not (ticks wrap at 2**30, as there).
    @staticmethod
    def ticks_ms():
        return int(time.monotonic() * 1000) & 0x3FFFFFFF

    @staticmethod
    def ticks_us():
        return int(time.monotonic() * 1000000) & 0x3FFFFFFF

    ticks_cpu = ticks_us

    @staticmethod
    def ticks_add(ticks, delta):
        return (ticks + delta) & 0x3FFFFFFF

    @staticmethod
    def ticks_diff(a, b):
        return ((a - b + 0x20000000) & 0x3FFFFFFF) - 0x20000000

    @staticmethod
    def sleep_ms(ms):
        time.sleep(ms / 1000)

    @staticmethod
    def sleep_us(us):
        time.sleep(us / 1000000)


SHIMS = {"micropython": _MicroPythonShim, "time": _TimeShim}
