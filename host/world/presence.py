"""Who is in which room: bluenet's presence handler, driven by the scenario's timeline.

As crownstone/bluenet b4161ec3d source/src/presence/cs_PresenceHandler.cpp: a person's phone in
a room keeps a presence record (profile, room) alive; once it stops (the person left, or entered
another room) the record times out PRESENCE_TIMEOUT_SECONDS (10 s) later. The room mask has bit N
set while any record for room N is alive. For the first PRESENCE_UNCERTAIN_SECONDS_AFTER_BOOT
(30 s) of uptime the presence is unknown and CMD_GET_PRESENCE answers an empty mask.
Changes are dispatched as EVT_PRESENCE_CHANGE (presence_change_t: type, profile, room) and
EVT_PRESENCE_MUTATION (PresenceMutation) events.
"""
from __future__ import annotations

from typing import Callable

from host.world.history import History

TIMEOUT_MS = 10_000      # PRESENCE_TIMEOUT_SECONDS, cs_PresenceHandler.h:58
UNCERTAIN_MS = 30_000    # PRESENCE_UNCERTAIN_SECONDS_AFTER_BOOT, cs_PresenceHandler.h:67
PROFILES = 8             # MAX_NUMBER_OF_PRESENCE_PROFILES, cs_Packets.h
ROOMS = 64

# CS_TYPE numbers (cs_Types.h) and enums (cs_Packets.h:378, cs_PacketsInternal.h:255).
EVT_PRESENCE_MUTATION = 449
EVT_PRESENCE_CHANGE = 452
FIRST_SPHERE_ENTER, LAST_SPHERE_EXIT, PROFILE_SPHERE_ENTER, PROFILE_SPHERE_EXIT, \
    PROFILE_LOCATION_ENTER, PROFILE_LOCATION_EXIT = range(6)
NOTHING_CHANGED, ONLINE, OFFLINE, LAST_USER_EXIT_SPHERE, FIRST_USER_ENTER_SPHERE, \
    OCCUPIED_ROOMS_MASK_CHANGED = range(6)

Emit = Callable[[int, bytes], None]


class Presence:
    def __init__(self, history: History, clock, people: dict[str, int], uptime_ms: int = 0,
                 emit: Emit | None = None) -> None:
        self.history = history
        self.clock = clock
        self.people = people          # name -> profile id
        self.uptime_ms = uptime_ms    # the stone's uptime at t=0
        self.emit = emit or (lambda cs_type, data: None)
        # (person, room) -> when its record expires (None: the phone is there, refreshing it).
        self.records: dict[tuple[str, int], int | None] = {}
        self.where: dict[str, int] = {}  # the room each person's phone is in now

    # -- what bluenet reads ------------------------------------------------------------------
    def known(self) -> bool:
        return self.clock.now_ms + self.uptime_ms >= UNCERTAIN_MS

    def mask(self, profile: int | None = None) -> int:
        """The 64-bit room mask now: of one profile, or of everyone (None); 0 while unknown."""
        if not self.known():
            return 0
        mask = 0
        for person, room in self.records:
            if profile is None or self.people[person] == profile:
                mask |= 1 << room
        return mask

    # -- the timeline ------------------------------------------------------------------------
    def enter(self, person: str, room: int, source: str = "timeline") -> int | None:
        """The person's phone is now in `room`. Returns when the record of the room it left
        expires (the world calls expire() then), or None."""
        before = self.mask()
        left = self.where.get(person)
        expiry = None
        if left is not None and left != room:
            expiry = self._stop_refreshing(person, left)
        self.where[person] = room
        new = (person, room) not in self.records
        self.records[(person, room)] = None
        profile = self.people[person]
        if new:
            self._change(PROFILE_LOCATION_ENTER, profile, room)
        self._record(source, person, room, True)
        self._mutation(before, profile, room)
        return expiry

    def leave(self, person: str, source: str = "timeline") -> int | None:
        """The person's phone left; its record expires TIMEOUT_MS later (returned)."""
        room = self.where.pop(person, None)
        if room is None:
            return None
        self.history.record(self.clock.now_ms, "presence_left", source, person=person, room=room)
        return self._stop_refreshing(person, room)

    def expire(self) -> None:
        """Drop the records whose time is up (bluenet's tickSecond)."""
        now = self.clock.now_ms
        before = self.mask()
        for key, until in list(self.records.items()):
            if until is not None and until <= now:
                del self.records[key]
                person, room = key
                self._change(PROFILE_LOCATION_EXIT, self.people[person], room)
                self._record("timeout", person, room, False)
        if before and not self.mask() and self.known():
            self._change(LAST_SPHERE_EXIT, 0, 0)
            self._change(PROFILE_SPHERE_EXIT, 0, 0)

    # -- helpers -----------------------------------------------------------------------------
    def _stop_refreshing(self, person: str, room: int) -> int:
        until = self.clock.now_ms + TIMEOUT_MS
        self.records[(person, room)] = until
        return until

    def _mutation(self, before: int, profile: int, room: int) -> None:
        if not self.known():
            return
        after = self.mask()
        if before == after:
            return
        if before == 0:
            mutation = FIRST_USER_ENTER_SPHERE
        elif after == 0:
            mutation = LAST_USER_EXIT_SPHERE
        else:
            mutation = OCCUPIED_ROOMS_MASK_CHANGED
        self.emit(EVT_PRESENCE_MUTATION, bytes((mutation,)))
        if mutation == FIRST_USER_ENTER_SPHERE:
            self._change(FIRST_SPHERE_ENTER, 0, 0)
            self._change(PROFILE_SPHERE_ENTER, profile, room)

    def _change(self, kind: int, profile: int, room: int) -> None:
        self.emit(EVT_PRESENCE_CHANGE, bytes((kind, profile, room)))

    def _record(self, source: str, person: str, room: int, present: bool) -> None:
        self.history.record(self.clock.now_ms, "presence", source, person=person, room=room,
                            present=int(present), mask=f"{self.mask():#x}")
