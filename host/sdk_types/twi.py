"""TWI: microapp_sdk_twi_t (handleRequestTwi, RequestHandler.cpp:430-476) against the world's
I2C bus (host/world/i2c.py answers as bluenet's TWI driver does). bluenet sets a READ's ack from
the driver's result and then overwrites it with SUCCESS (a bug with no effect: the driver's
result is never an error); every handled request answers SUCCESS. bluenet passes the size byte
to the driver unchecked, reading or writing past the 42-byte buffer; we clip it to 42."""
from __future__ import annotations

from shared_buffers import protocol as P

_B = P.OFF_TWI_BUF


class Twi:
    def __init__(self, world) -> None:
        self.bus = world.bus

    def handle(self, m2b: bytearray) -> int:
        kind = m2b[P.OFF_TWI_TYPE]
        address, size = m2b[P.OFF_TWI_ADDRESS], min(m2b[P.OFF_TWI_SIZE], P.TWI_MAX)
        if kind == P.TWI_INIT:
            self.bus.init()
        elif kind == P.TWI_WRITE:
            self.bus.write(address, bytes(m2b[_B:_B + size]), bool(m2b[P.OFF_TWI_FLAGS] & P.TWI_FLAG_STOP))
        elif kind == P.TWI_READ:
            data = self.bus.read(address, size)
            if data is not None:  # None: no device answered, the buffer stays, size as asked
                m2b[_B:_B + len(data)] = data
                size = len(data)
            m2b[P.OFF_TWI_SIZE] = size
            m2b[P.OFF_USED] = max(m2b[P.OFF_USED], _B + size)  # the bytes read travel back
        else:
            return P.ERR_UNDEFINED
        return P.SUCCESS
