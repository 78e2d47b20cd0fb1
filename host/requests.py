"""Validate and execute one request per message type (seed 001: validate, then execute).

Each handler reads the request from the microapp-to-host buffer, writes any result back into its
payload and returns the ack. Nothing a microapp writes may make a handler raise: every field is
checked first and bad ones get an error ack.
"""
from __future__ import annotations

from typing import Callable

from host.device import Device
from host.interrupts import Registry
from host.limits import Limits
from shared_buffers import protocol as P

_P = P.HEADER_SIZE
Handler = Callable[[bytearray, int], int]


class RequestHandlers:
    def __init__(self, device: Device, registry: Registry, limits: Limits) -> None:
        self.device = device
        self.registry = registry
        self.limits = limits
        # Indexed by message type; None: not implemented.
        self.table: list[Handler | None] = [None] * 256
        self.table[P.LOG] = self.log
        self.table[P.PIN] = self.pin
        self.table[P.MESH] = self.mesh
        self.table[P.BLE] = self.ble
        self.table[P.YIELD] = self.yield_as_request

    def log(self, m2b: bytearray, n: int) -> int:
        if n < 2:
            return P.ERR_WRONG_PARAM
        kind = m2b[_P]
        if kind == P.LOG_STR:
            text = bytes(m2b[_P + 2:_P + n]).decode("utf-8", "replace")
        elif kind == P.LOG_INT:
            if n != 6:
                return P.ERR_WRONG_PARAM
            text = str(int.from_bytes(m2b[_P + 2:_P + 6], "little", signed=True))
        else:
            return P.ERR_WRONG_PARAM
        self.device.write_log(text, bool(m2b[_P + 1] & P.LOG_FLAG_NEWLINE), self.limits.max_log_line)
        return P.SUCCESS

    def pin(self, m2b: bytearray, n: int) -> int:
        if n < 2:
            return P.ERR_WRONG_PARAM
        op, pin = m2b[_P], m2b[_P + 1]
        if pin >= self.device.pins:
            return P.ERR_OUT_OF_RANGE
        if op == P.PIN_WRITE:
            if n != 3 or m2b[_P + 2] > 1:
                return P.ERR_WRONG_PARAM
            if self.device.modes[pin] != P.PIN_OUTPUT:
                return P.ERR_WRONG_PARAM
            self.device.set_output(pin, m2b[_P + 2])
            return P.SUCCESS
        if op == P.PIN_READ:
            if n != 2:
                return P.ERR_WRONG_PARAM
            m2b[_P + 2] = self.device.levels[pin]
            m2b[P.OFF_LENGTH] = 3
            return P.SUCCESS
        if op == P.PIN_MODE:
            if n != 4 or m2b[_P + 2] > P.PIN_INPUT_PULLUP or m2b[_P + 3] > P.EDGE_CHANGE:
                return P.ERR_WRONG_PARAM
            mode, edge = m2b[_P + 2], m2b[_P + 3]
            if edge != P.EDGE_NONE and mode == P.PIN_OUTPUT:
                return P.ERR_WRONG_PARAM
            key = (P.PIN << 8) | pin
            if edge != P.EDGE_NONE:
                ack = self.registry.register(key, edge)
                if ack != P.SUCCESS:
                    return ack
            else:
                self.registry.unregister(key)
            self.device.modes[pin] = mode
            if mode == P.PIN_INPUT_PULLUP:
                self.device.levels[pin] = 1
            return P.SUCCESS
        return P.ERR_NOT_IMPLEMENTED

    def mesh(self, m2b: bytearray, n: int) -> int:
        if n < 1:
            return P.ERR_WRONG_PARAM
        op = m2b[_P]
        if op == P.MESH_SEND:
            if n < 2:
                return P.ERR_WRONG_PARAM
            if n - 2 > P.MESH_MAX_DATA:
                return P.ERR_TOO_LARGE
            if n == 2:
                return P.ERR_EMPTY
            self.device.send_mesh(m2b[_P + 1], bytes(m2b[_P + 2:_P + n]))
            return P.SUCCESS
        if op == P.MESH_LISTEN:
            return self.registry.register(P.MESH << 8) if n == 1 else P.ERR_WRONG_PARAM
        if op == P.MESH_OWN_ID:
            if n != 1:
                return P.ERR_WRONG_PARAM
            m2b[_P + 1] = self.device.stone_id
            m2b[P.OFF_LENGTH] = 2
            return P.SUCCESS
        return P.ERR_NOT_IMPLEMENTED

    def ble(self, m2b: bytearray, n: int) -> int:
        if n != 1:
            return P.ERR_WRONG_PARAM
        op = m2b[_P]
        if op == P.BLE_SCAN_START:
            self.device.scanning = True
        elif op == P.BLE_SCAN_STOP:
            self.device.scanning = False
        elif op == P.BLE_SCAN_REGISTER:
            return self.registry.register(P.BLE << 8)
        else:
            return P.ERR_NOT_IMPLEMENTED
        return P.SUCCESS

    def yield_as_request(self, m2b: bytearray, n: int) -> int:
        # A YIELD is a final status; sent with ack REQUEST it is malformed, and is answered as a
        # request (the host never takes a request for a final status).
        return P.ERR_WRONG_PARAM
