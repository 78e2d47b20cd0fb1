"""The nine types that act on the stone's world (host/world), put into a controller's table, and
the events the world sends the app: messages from outside, assets passing, bluenet events."""
from __future__ import annotations

from host import interrupts as I
from host.sdk_types import assets, bluenet_event, message
from host.sdk_types.assets import Assets
from host.sdk_types.bluenet_event import BluenetEvent
from host.sdk_types.control_command import ControlCommand
from host.sdk_types.message import Message
from host.sdk_types.power_usage import PowerUsage
from host.sdk_types.presence import Presence
from host.sdk_types.service_data import ServiceData
from host.sdk_types.switch import Switch
from host.sdk_types.twi import Twi
from shared_buffers import protocol as P


class WorldTypes:
    def __init__(self, controller, world, presence_per_profile: bool = False) -> None:
        self.controller = controller
        self.world = world
        registry = controller.registry
        self.events = BluenetEvent(registry, world.subscribed)
        world.wants = self.events.wants
        controller.handlers[P.SWITCH] = Switch(world).handle
        controller.handlers[P.POWER_USAGE] = PowerUsage(world).handle
        controller.handlers[P.PRESENCE] = Presence(world, presence_per_profile).handle
        controller.handlers[P.SERVICE_DATA] = ServiceData(world).handle
        controller.handlers[P.TWI] = Twi(world).handle
        controller.handlers[P.CONTROL_COMMAND] = ControlCommand(world).handle
        controller.handlers[P.MESSAGE] = Message(world, registry).handle
        controller.handlers[P.BLUENET_EVENT] = self.events.handle
        controller.handlers[P.ASSETS] = Assets(registry).handle
        # Bluenet events raised while an entry runs (by the app's own request) wait for its end.
        self.pending: list[tuple[int, int, bytes]] = []
        world.emitters.append(self.on_event)

    def on_event(self, cs_type: int, data: bytes) -> None:
        if not self.events.wants(cs_type):
            return
        if self.controller.entry_seq & 1:
            self.pending.append((self.world.clock.now_ms, cs_type, data))
        else:
            self.controller.interrupt(P.BLUENET_EVENT, *bluenet_event.interrupt(cs_type, data))

    def flush(self) -> None:
        """Deliver the bluenet events raised during the last entries, each at its time."""
        pending = self.pending[:]
        self.pending.clear()  # the same list: the simulator holds it
        for _t, cs_type, data in pending:
            self.controller.interrupt(P.BLUENET_EVENT, *bluenet_event.interrupt(cs_type, data))

    def message_in(self, data: bytes) -> None:
        """A phone or the hub sends the app a message (CTRL_CMD_MICROAPP_MESSAGE)."""
        c = self.controller
        registered = message.KEY in c.registry.counts
        outcome = None
        if data and len(data) <= P.MESSAGE_MAX and registered:
            outcome = c.interrupt(P.MESSAGE, *message.interrupt(data))
        result = message.sender_result(data, registered, outcome)
        self.world.history.record(self.world.clock.now_ms, "message_in", "timeline",
                                  data=data.hex(), result=result)

    def asset(self, fields: dict) -> str:
        """An asset passes and a filter accepts it (EVT_ASSET_ACCEPTED)."""
        outcome = self.controller.interrupt(P.ASSETS, *assets.interrupt(fields))
        self.world.history.record(self.world.clock.now_ms, "asset", "timeline", id=fields["id"].hex(),
                                  rssi=fields["rssi"], delivered=int(outcome == I.DELIVERED))
        return outcome
