"""The SDK's constants are folded into an app's code by the host (host/sdk_constants.py): the
folded app must compute what the app computed with the constants as the SDK module's globals
(Python's scoping decides which names are the SDK's), on the same lines, and neither the
board's SDK module nor the simulator's view of it holds them."""
import sys
import textwrap
import types

import pytest

from firmware import app_sdk
from host.sdk_constants import CONSTANTS, OBJECT_CONSTANTS, fold
from host.simulator import Simulation
from shared_buffers import protocol as P

# Each app sets RESULT; with the constants as globals of `microapp` it computes the reference.
APPS = {
    "star": """
        from microapp import *
        RESULT = (HIGH, LOW, LED1_PIN, BUTTON4_PIN, GPIO9_PIN, NUMBER_OF_PINS, OUTPUT, INPUT,
                  INPUT_PULLUP, CHANGE, RISING, FALLING, SUCCESS, ERROR, THROTTLED, CPU_BUSY,
                  BLEDeviceScanned, BLEDisconnected)
        """,
    "the app's own top-level name wins": """
        from microapp import *
        HIGH = 5
        def f():
            return HIGH, LOW
        RESULT = f()
        """,
    "parameters, locals, class bodies, comprehensions": """
        from microapp import *
        def f(LOW, *OUTPUT, **INPUT):
            HIGH = 7
            return LOW, HIGH, OUTPUT, INPUT, LED2_PIN
        class A:
            LED1_PIN = 99
            seen = LED1_PIN
            def m(self, d=LED1_PIN):
                return d, LED1_PIN
        squares = [LOW for LOW in range(3)]
        RESULT = (f(1), A.seen, A().m(), squares, [HIGH for _ in range(2)],
                  {k: RISING for k in (1,)}, (lambda HIGH=2: HIGH)(), (lambda: FALLING)())
        """,
    "nested functions and closures": """
        from microapp import *
        def outer():
            LOW = 11
            def inner():
                return LOW, HIGH
            return inner()
        RESULT = outer()
        """,
    "a function's global assignment makes it the app's": """
        from microapp import *
        def set_low():
            global LOW
            LOW = 3
        before = HIGH
        set_low()
        RESULT = (before, LOW)
        """,
    "explicit imports and aliases": """
        from microapp import HIGH as H, LOW, Serial
        from microapp import (LED4_PIN,
                              GPIO0_PIN)
        RESULT = (H, LOW, LED4_PIN, GPIO0_PIN, Serial is not None)
        """,
    "the module and its alias": """
        import microapp
        import microapp as m
        def g(m):
            return m.HIGH
        RESULT = (microapp.HIGH, m.LED3_PIN, g(types.SimpleNamespace(HIGH=-1)), m.SUCCESS)
        """,
    "expressions that need the literal kept whole": """
        from microapp import *
        RESULT = (HIGH.bit_length(), -HIGH, 2 ** LED1_PIN, f"{HIGH:>3}|{LOW!r}", [0] * LED1_PIN)
        """,
    "match patterns": """
        import microapp
        def kind(x):
            match x:
                case microapp.HIGH:
                    return "high"
                case _:
                    return "other"
        RESULT = (kind(1), kind(0))
        """,
    "Serial's kinds": """
        from microapp import *
        from microapp import Serial as S
        import microapp as m
        def f(Serial):
            return Serial.CHAR
        RESULT = (Serial.CHAR, Serial.SHORT, S.DOUBLE, m.Serial.UINT, [Serial.ARR for _ in (1,)],
                  f(types.SimpleNamespace(CHAR=-1)))
        """,
    "a kind the app assigns stays its own": """
        from microapp import *
        import microapp as m
        Serial.CHAR = 9
        class A:
            def f(self):
                self.INT = 0  # another object's: Serial.INT is still the SDK's
        m.Serial = types.SimpleNamespace(UINT=-7)
        RESULT = (Serial.CHAR, Serial.INT, m.Serial.UINT)
        """,
}


def _run(source, constants):
    sdk = types.ModuleType("microapp")
    sdk.Serial = types.SimpleNamespace(**(OBJECT_CONSTANTS["Serial"] if constants else {}))
    if constants:
        vars(sdk).update(CONSTANTS)
    saved = sys.modules.get("microapp")
    sys.modules["microapp"] = sdk
    try:
        namespace = {"types": types}
        exec(compile(source, "<app>", "exec"), namespace)
        return namespace["RESULT"]
    finally:
        if saved is None:
            del sys.modules["microapp"]
        else:
            sys.modules["microapp"] = saved


@pytest.mark.parametrize("name", APPS)
def test_a_folded_app_computes_what_it_did_with_the_constants_as_globals(name):
    source = textwrap.dedent(APPS[name])
    folded = fold(source)
    assert folded != source
    assert _run(folded, constants=False) == _run(source, constants=True)


def test_folding_keeps_every_line_where_it_was():
    source = textwrap.dedent(APPS["explicit imports and aliases"]) + textwrap.dedent("""
        def setup():
            x = (HIGH +
                 LOW)
            raise ValueError(x)
        """)
    folded = fold(source)
    assert folded.count("\n") == source.count("\n")
    for line, (old, new) in enumerate(zip(source.splitlines(), folded.splitlines()), 1):
        if "raise" in old or "def " in old:
            assert old == new, line


def test_an_app_that_does_not_import_the_sdk_is_left_as_it_is():
    source = "HIGH = 1\nprint(LOW)\n"
    assert fold(source) == source
    assert fold("def broken(:\n") == "def broken(:\n"  # the compiler says why
    assert fold(b"\xff\xfe") == b"\xff\xfe"


def test_the_constants_are_bluenets_and_the_sdks_numbers():
    assert CONSTANTS["INPUT"] == P.PIN_INPUT and CONSTANTS["OUTPUT"] == P.PIN_OUTPUT
    assert [CONSTANTS[f"LED{n}_PIN"] for n in range(1, 5)] == [14, 15, 16, 17]
    assert [CONSTANTS[f"BUTTON{n}_PIN"] for n in range(1, 5)] == [10, 11, 12, 13]
    assert CONSTANTS["NUMBER_OF_PINS"] == 18
    assert CONSTANTS["CPU_BUSY"] == P.SIG_CPU_BUSY


def test_no_sdk_module_holds_them_so_sim_and_board_agree():
    # The board's SDK (app_sdk is what `import microapp` gives) and so the simulator's view.
    assert not set(CONSTANTS) & set(dir(app_sdk))
    assert not set(OBJECT_CONSTANTS["Serial"]) & set(dir(app_sdk.Serial))
    lines = []
    Simulation("import microapp\n"
               "def setup():\n"
               "    print(hasattr(microapp, 'HIGH'), HIGH_SEEN)\n"
               "HIGH_SEEN = microapp.HIGH\n", on_log=lambda t, line: lines.append(line)).run(1)
    assert lines == ["False 1"]
