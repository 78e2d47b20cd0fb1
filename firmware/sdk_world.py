# The SDK objects for the stone's world (crownstone-microapp's CrownstoneSwitch.cpp,
# PowerUsage.cpp, Presence.cpp, ServiceData.cpp, Wire.cpp, Message.cpp, BluenetInternal.cpp),
# re-exported by microapp.py. Where the real SDK returns nothing, or loses the ack by checking
# sendMessage(), ours returns what the host answered (docs/simulator.md). Runs under MicroPython.
from firmware.microapp import _Lazy, registerInterrupt
from firmware.microapp import getOutgoingMessagePayload as _out
from shared_buffers import protocol as _P
from shared_buffers import protocol_world as _W
_request, _state = _Lazy._request, _Lazy._state  # the SDK's private helpers (microapp.py)


# -- CrownstoneSwitch -------------------------------------------------------------------------
class _Switch:
    def _set(self, value):
        m2b = _out()
        m2b[_W.OFF_SWITCH_TYPE] = _W.SWITCH_SET
        m2b[_W.OFF_SWITCH_VALUE] = value
        return _request(_P.SWITCH, _W.SWITCH_STRUCT)

    def turnOn(self, useBehaviour=True):
        return self._set(_W.SWITCH_SMART_ON if useBehaviour else _W.SWITCH_ON)

    def turnOff(self):
        return self._set(_W.SWITCH_OFF)

    def dim(self, percentage):
        return self._set(min(max(percentage, 0), 100))

    def toggle(self):
        return self._set(_W.SWITCH_TOGGLE)

    def asPerBehaviour(self):
        return self._set(_W.SWITCH_BEHAVIOUR)

    def getState(self):
        """(relay, dimmer) as bluenet reports it; the real one is private."""
        m2b = _out()
        m2b[_W.OFF_SWITCH_TYPE] = _W.SWITCH_GET
        _request(_P.SWITCH, _W.SWITCH_STRUCT)
        state = m2b[_W.OFF_SWITCH_VALUE]
        return state >> 7, state & 0x7F

    def isOff(self):
        return self.getState() == (0, 0)

    def isOn(self):
        return not self.isOff()


CrownstoneSwitch = _Switch()


# -- PowerUsage, Presence, ServiceData --------------------------------------------------------
class _PowerUsage:
    def getPowerUsageMilliWatts(self):
        """Milliwatts, or -1 when the host refused."""
        m2b = _out()
        m2b[_W.OFF_POWER_TYPE] = _W.POWER_USAGE_POWER
        if _request(_P.POWER_USAGE, _W.OFF_POWER_VALUE + 4) != _P.SUCCESS:
            return -1
        v = int.from_bytes(bytes(m2b[_W.OFF_POWER_VALUE:_W.OFF_POWER_VALUE + 4]), "little")
        return v - (1 << 32) if v & 0x80000000 else v


PowerUsage = _PowerUsage()


class _Presence:
    def getPresence(self, profileId):
        """The 64-bit room mask (0 when refused); private in the real SDK."""
        m2b = _out()
        m2b[_W.OFF_PRESENCE_PROFILE] = profileId
        m2b[_W.OFF_PRESENCE_MASK:_W.OFF_PRESENCE_MASK + 8] = bytes(8)
        if _request(_P.PRESENCE, _W.OFF_PRESENCE_MASK + 8) != _P.SUCCESS:
            return 0
        return int.from_bytes(bytes(m2b[_W.OFF_PRESENCE_MASK:_W.OFF_PRESENCE_MASK + 8]), "little")

    def isPresent(self, profileId, roomId):
        """Whether the profile is in the room (0: the sphere). The real SDK tests `1 << roomId`
        in 32 bits, so rooms 32-63 never match there; here they do, as meant."""
        if roomId >= 64:
            return False
        return bool(self.getPresence(profileId) >> roomId & 1)


Presence = _Presence()


class _ServiceData:
    def write(self, appUuid, data):
        """Advertise up to 8 bytes (str or bytes; more are cut) under appUuid; returns the ack."""
        if isinstance(data, str):
            data = data.encode()
        data = data[:_W.SERVICE_DATA_MAX]
        m2b = _out()
        m2b[_W.OFF_SERVICE_UUID] = appUuid & 0xFF
        m2b[_W.OFF_SERVICE_UUID + 1] = (appUuid >> 8) & 0xFF
        m2b[_W.OFF_SERVICE_SIZE] = len(data)
        m2b[_W.OFF_SERVICE_DATA:_W.OFF_SERVICE_DATA + len(data)] = data
        return _request(_P.SERVICE_DATA, _W.OFF_SERVICE_DATA + len(data))


ServiceData = _ServiceData()


# -- Wire -------------------------------------------------------------------------------------
class _Wire:
    # The transmission's address and the bytes read live in the app's SDK state.
    def _twi(self, kind, address, flags, data=b"", size=None):
        m2b = _out()
        m2b[_W.OFF_TWI_TYPE] = kind
        m2b[_W.OFF_TWI_ADDRESS] = address
        m2b[_W.OFF_TWI_FLAGS] = flags
        m2b[_W.OFF_TWI_SIZE] = len(data) if size is None else size
        m2b[_W.OFF_TWI_BUF:_W.OFF_TWI_BUF + len(data)] = data
        return _request(_P.TWI, _W.OFF_TWI_BUF + len(data))

    def begin(self):
        return self._twi(_W.TWI_INIT, 0, _W.TWI_FLAG_STOP)

    def beginTransmission(self, address):
        _state()["wire_address"] = address

    def endTransmission(self):
        pass  # a dummy in the real SDK too: every write is sent with the stop flag

    def requestFrom(self, address, size, stop=False):
        """Read size bytes (at most 42) for available() and read()."""
        m2b = _out()
        self._twi(_W.TWI_READ, address, _W.TWI_FLAG_STOP if stop else 0, size=min(size, _W.TWI_MAX))
        n = min(m2b[_W.OFF_TWI_SIZE], _W.TWI_MAX)
        _state()["wire_read"] = [bytes(m2b[_W.OFF_TWI_BUF:_W.OFF_TWI_BUF + n]), 0]

    def available(self):
        buf, ptr = _state().get("wire_read", (b"", 0))
        return max(len(buf) - ptr, 0)

    def read(self):
        read = _state().get("wire_read")
        if not read or read[1] >= len(read[0]):
            return 0
        read[1] += 1
        return read[0][read[1] - 1]

    def write(self, value):
        """A byte (int), str (at most 41) or bytes (at most 42) to the transmission's address;
        returns the bytes written."""
        if isinstance(value, int):
            data = bytes((value & 0xFF,))
        elif isinstance(value, str):
            data = value.encode()[:_W.TWI_MAX - 1]
        else:
            data = bytes(value)[:_W.TWI_MAX]
        if not data:
            return 0
        self._twi(_W.TWI_WRITE, _state().get("wire_address", 0), _W.TWI_FLAG_STOP, data)
        return len(data)

    send = write


Wire = _Wire()


# -- Message ----------------------------------------------------------------------------------
def _message_interrupt(frame):
    if frame[_W.OFF_MESSAGE_TYPE] != _W.MESSAGE_RECEIVED:
        return _P.ERR_UNDEFINED
    size = min(frame[_W.OFF_MESSAGE_SIZE] | frame[_W.OFF_MESSAGE_SIZE + 1] << 8, _W.MESSAGE_MAX)
    data = bytes(frame[_W.OFF_MESSAGE_DATA:_W.OFF_MESSAGE_DATA + size])
    state = _state()
    handler = state.get("message_handler")
    if handler is not None:
        handler(data)
        return _P.SUCCESS
    buffered = state.get("message_buffer", b"")
    if len(buffered) + len(data) > _W.MESSAGE_MAX:
        return _P.ERR_NO_SPACE
    state["message_buffer"] = buffered + data
    return _P.SUCCESS


class _Message:
    def begin(self):
        """Register for messages from a phone or the hub; False if refused."""
        state = _state()
        if state.get("message_registered"):
            return True
        key = (_P.MESSAGE << 8) | _W.MESSAGE_RECEIVED
        if registerInterrupt(_P.MESSAGE, _W.MESSAGE_RECEIVED, _message_interrupt) != _P.SUCCESS:
            return False
        _out()[_W.OFF_MESSAGE_TYPE] = _W.MESSAGE_REGISTER
        if _request(_P.MESSAGE, _W.OFF_MESSAGE_TYPE + 1) != _P.SUCCESS:
            del _state(True)[key]
            return False
        state["message_registered"] = True
        return True

    def write(self, data):
        """Send up to 43 bytes out (str or bytes); returns the bytes sent, 0 if refused."""
        if isinstance(data, str):
            data = data.encode()
        data = data[:_W.MESSAGE_MAX]
        m2b = _out()
        m2b[_W.OFF_MESSAGE_TYPE] = _W.MESSAGE_SEND
        m2b[_W.OFF_MESSAGE_SIZE] = len(data)
        m2b[_W.OFF_MESSAGE_SIZE + 1] = 0
        m2b[_W.OFF_MESSAGE_DATA:_W.OFF_MESSAGE_DATA + len(data)] = data
        if _request(_P.MESSAGE, _W.OFF_MESSAGE_DATA + len(data)) != _P.SUCCESS:
            return 0
        return len(data)

    def available(self):
        return len(_state().get("message_buffer", b""))

    def readBytes(self, size):
        """Up to size buffered bytes, as bytes."""
        state = _state()
        buffered = state.get("message_buffer", b"")
        state["message_buffer"] = buffered[size:]
        return buffered[:size]

    def setHandler(self, handler):
        """handler(data) runs for each message instead of buffering it."""
        _state()["message_handler"] = handler
        return True


Message = _Message()


# -- BluenetInternal --------------------------------------------------------------------------
def _event_interrupt(frame):
    handler = _state().get("event_handler")
    if handler is not None:
        size = min(frame[_W.OFF_EVENT_SIZE] | frame[_W.OFF_EVENT_SIZE + 1] << 8, _W.EVENT_MAX)
        handler(frame[_W.OFF_EVENT_EVENT_TYPE] | frame[_W.OFF_EVENT_EVENT_TYPE + 1] << 8,
                bytes(frame[_W.OFF_EVENT_DATA:_W.OFF_EVENT_DATA + size]))
    return _P.SUCCESS


class _BluenetInternal:
    MAX_SUBSCRIPTIONS = _W.EVENT_MAX_TYPES

    def setEventHandler(self, handler):
        """handler(bluenetType, data) runs for each event subscribed to."""
        key = (_P.BLUENET_EVENT << 8) | _W.EVENT_EVENT
        if key not in _state(True) and registerInterrupt(
                _P.BLUENET_EVENT, _W.EVENT_EVENT, _event_interrupt) != _P.SUCCESS:
            return False
        _state()["event_handler"] = handler
        return True

    def subscribe(self, bluenetType):
        """Subscribe to a CS_TYPE; True when the host took it (the real SDK says True even when
        bluenet answered ERROR)."""
        if bluenetType == 0:
            return False
        types = _state().setdefault("event_types", [])
        if bluenetType in types:
            return True
        if len(types) >= self.MAX_SUBSCRIPTIONS:
            return False
        m2b = _out()
        m2b[_W.OFF_EVENT_TYPE] = _W.EVENT_REGISTER
        m2b[_W.OFF_EVENT_EVENT_TYPE] = bluenetType & 0xFF
        m2b[_W.OFF_EVENT_EVENT_TYPE + 1] = bluenetType >> 8
        if _request(_P.BLUENET_EVENT, _W.OFF_EVENT_EVENT_TYPE + 2) != _P.SUCCESS:
            return False
        types.append(bluenetType)
        return True


BluenetInternal = _BluenetInternal()
