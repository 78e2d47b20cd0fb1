"""The mesh as a microapp can observe it: bluenet's mesh models over Nordic's mesh stack.

What a microapp sees of the mesh is when (and how often) a message reaches the apps of other
stones. That follows from these rules, read in crownstone/bluenet b4161ec3d and the nRF5 SDK for
Mesh it builds (docs/mesh.md lists them with their references):

- A send with stone id 0 is a broadcast (unacked), any other id a targeted message (acked); the
  doNotRelay option gives the PDU TTL 0, so only direct neighbours hear it
  (cs_MicroappRequestHandler.cpp:842-877, cs_MeshModelSelector.cpp:23-56,
  cs_MeshModelUnicast.cpp:479, cs_MeshModelMulticastNeighbours.cpp:54). Otherwise TTL is
  CS_MESH_DEFAULT_TTL = 10 (cs_Config.h:211).
- Every microapp message has the same mesh type (MICROAPP) and id 0, and bluenet removes a queued
  message of the same type and id before it queues a new one (cs_MeshMsgSender.cpp:38-40): a send
  replaces the microapp's message still waiting (for a broadcast: in the relaying model's queue,
  even when the new one has doNotRelay).
- Broadcast: queued (20 places; 10 in the doNotRelay model), sent MESH_MODEL_TRANSMISSIONS_DEFAULT = 3 times, each time a new
  PDU; the queue is worked every 100 ms (the mesh tick), at most 3 transmissions per tick,
  round robin (cs_MeshModelMulticast.cpp:129-258, cs_MeshDefines.h). Each transmission reaches
  the app again: bluenet does not drop repeats above the network layer.
- Targeted: queued (5 places), one at a time; Nordic's access_reliable publishes at once, then
  again after interval = TTL x 20 ms + 200 ms, doubling each time, until the reply comes or the
  timeout (10 s, MESH_MODEL_RELIABLE_TIMEOUT_DEFAULT) passes (access_reliable.c:
  calculate_interval, reliable_timer_cb). The receiving bluenet replies with an empty MICROAPP
  message (cs_MicroappInterruptHandler.cpp:293-302), TTL 0 when it came with TTL 0
  (cs_MeshModelUnicast.cpp:194-207). The next queued message goes at the next mesh tick.
- Network layer: a message cache of MSG_CACHE_ENTRY_COUNT = 32 (source, sequence number)
  entries, a ring without expiry, drops a PDU seen before (no relay, no delivery); a relay
  passes on a PDU received with TTL >= 2 with TTL - 1 and never one addressed to itself; the
  transport layer's replay protection drops a PDU whose sequence number is not above the last one
  from that source (msg_cache.c, network.c, replay_cache.c). A stone never hears itself.

What we model that Nordic's stack does in radio hardware: a stone's advertiser sends its PDUs one
after the other, each taking `latency_ms` plus up to `jitter_ms` (uniform) to be in the air, where
every neighbour hears it at once; each link loses a PDU with its `loss` probability. All draws come from
one random.Random(seed), in event order: the same scenario and seed give the same run.
"""
from __future__ import annotations

import heapq
import random
from collections import deque
from dataclasses import dataclass, field

# bluenet's and Nordic's numbers (see the module docstring for where each comes from).
DEFAULT_TTL = 10
BROADCAST_TRANSMISSIONS = 3
MULTICAST_QUEUE = 20
NEIGHBOURS_QUEUE = 10
QUEUE_BURST = 3
UNICAST_QUEUE = 5
RELIABLE_TIMEOUT_MS = 10_000
RELIABLE_INTERVAL_MS = 200
RELIABLE_HOP_PENALTY_MS = 20
RELIABLE_BACK_OFF = 2
MSG_CACHE_ENTRIES = 32
MAX_DATA = 7  # MAX_MICROAPP_MESH_PAYLOAD_SIZE

BROADCAST = "broadcast"
BROADCAST_NO_RELAY = "broadcast_no_relay"
TARGETED = "targeted"
TARGETED_NO_RELAY = "targeted_no_relay"
REPLY = "reply"
KINDS = (BROADCAST, BROADCAST_NO_RELAY, TARGETED, TARGETED_NO_RELAY, REPLY)


@dataclass(frozen=True)
class RadioParams:
    """The radio model's parameters (a scenario's [radio] table)."""
    latency_ms: float = 20.0      # per hop: one advertising event (BEARER_ADV_INT_DEFAULT_MS)
    jitter_ms: float = 10.0       # plus up to this (BLE's random advDelay is 0-10 ms)
    loss: float = 0.0             # default loss rate of a link
    range_m: float = 10.0         # stones with positions hear each other within this distance
    ttl: int = DEFAULT_TTL
    broadcast_transmissions: int = BROADCAST_TRANSMISSIONS
    reliable_timeout_ms: int = RELIABLE_TIMEOUT_MS
    msg_cache_entries: int = MSG_CACHE_ENTRIES


class Message:
    """One send by a microapp (or one reply by a bluenet): what the figures follow."""
    __slots__ = ("mid", "kind", "src", "dst", "data", "sent_us", "ttl", "transmissions",
                 "delivered_to", "fig")

    def __init__(self, mid: int, kind: str, fig: KindFigures, src: int, dst: int, data: bytes,
                 sent_us: int, ttl: int, transmissions: int) -> None:
        self.mid = mid
        self.kind = kind
        self.fig = fig  # its kind's figures (no lookup per PDU)
        self.src = src
        self.dst = dst
        self.data = data
        self.sent_us = sent_us
        self.ttl = ttl
        self.transmissions = transmissions  # left to send (broadcast)
        self.delivered_to: dict[int, int] | None = None  # receiver id -> first delivery (us), not a reply's


class Node:
    """A stone's radio: its links, its network cache and replay list, its two send queues."""
    __slots__ = ("sid", "links", "relay", "seq", "cache_size", "cache_n", "cache_at", "replay",
                 "multicast", "neighbours", "unicast", "uc_current", "uc_busy", "tx_free", "queued")

    def __init__(self, sid: int, relay: bool, cache_entries: int) -> None:
        self.sid = sid
        self.links: list[tuple[Node, float]] = []  # (neighbour, loss)
        self.relay = relay
        self.seq = 0
        # The network cache, a ring of the last cache_size PDUs (source << 32 | sequence number)
        # it heard or sent, as counts: cache_n PDUs so far, and the count at which each one that
        # may come again was cached. Only a PDU sent with TTL >= 2 may: one sent with TTL 0 or 1
        # is never relayed, so it reaches each neighbour once (Radio.link makes each link once)
        # and only takes its place in the ring (see _seen, _cache).
        self.cache_size = cache_entries
        self.cache_n = 0
        self.cache_at: dict[int, int] = {}
        self.replay: dict[int, int] = {}  # source id -> last sequence number delivered
        self.multicast = SendQueue(MULTICAST_QUEUE)    # broadcasts, relayed
        self.neighbours = SendQueue(NEIGHBOURS_QUEUE)  # broadcasts with doNotRelay (TTL 0)
        self.unicast: deque[Message] = deque()
        self.uc_current: Message | None = None  # bluenet's item in progress
        self.uc_busy: Transfer | None = None     # Nordic's reliable transfer (may outlive it)
        self.tx_free = 0  # when its advertiser has sent everything queued (us)
        self.queued = False  # anything in its queues for the next mesh tick


class SendQueue:
    """A multicast model's queue: messages with transmissions left, worked round robin."""
    __slots__ = ("items", "next", "size")

    def __init__(self, size: int) -> None:
        self.items: list[Message] = []
        self.next = 0
        self.size = size


class Transfer:
    """Nordic's access_reliable context for one targeted message."""
    __slots__ = ("msg", "interval_us", "timeout_at", "finished")

    def __init__(self, msg: Message, interval_us: int, timeout_at: int) -> None:
        self.msg = msg
        self.interval_us = interval_us
        self.timeout_at = timeout_at
        self.finished = False


@dataclass
class KindFigures:
    sent: int = 0
    replaced: int = 0        # removed from the queue by the app's next send (bluenet's rule)
    queue_full: int = 0
    transmissions: int = 0   # PDUs originated (each broadcast repeat, each retry)
    relayed: int = 0
    lost: int = 0            # receptions lost on a link
    duplicates: int = 0      # dropped by the network cache
    replayed: int = 0        # dropped by replay protection
    delivered: int = 0       # PDUs handed to a receiving stone
    acked: int = 0
    timeouts: int = 0
    retries: int = 0
    hops: list[int] = field(default_factory=list)
    latency_us: list[int] = field(default_factory=list)

    def report(self) -> dict:
        out = {k: v for k, v in self.__dict__.items() if k not in ("hops", "latency_us")}
        out["hops_p50"], out["hops_p99"], out["hops_max"] = _pcts(self.hops)
        p50, p99, top = _pcts(self.latency_us)
        out["latency_ms_p50"] = None if p50 is None else p50 / 1000
        out["latency_ms_p99"] = None if p99 is None else p99 / 1000
        out["latency_ms_max"] = None if top is None else top / 1000
        return out


def _pcts(values: list[int]) -> tuple[int | None, int | None, int | None]:
    if not values:
        return None, None, None
    s = sorted(values)
    return s[(len(s) - 1) // 2], s[min(len(s) - 1, (len(s) * 99) // 100)], s[-1]


# Event actions in the network's heap: (time us, seq, action, a, b).
RECEIVE = 1   # a: receiving Node, b: pdu
RETRY = 2     # a: sending Node, b: Transfer


class Radio:
    """The mesh between the stones. `schedule(t_us, action, a, b)` puts an event on the
    network's clock; `deliver(node, sender_id, data, t_us)` hands a PDU to a stone's app;
    `on_flow(msg, receiver, t_us)` (optional) sees each delivery for traces."""

    def __init__(self, params: RadioParams, seed: int) -> None:
        self.params = params
        self.rng = random.Random(seed)
        self.nodes: dict[int, Node] = {}
        self.figures = {k: KindFigures() for k in KINDS}
        self.messages: list[Message] = []  # the apps' (a bluenet's reply is counted, not kept)
        self._mid = 0  # the last message's number (replies count)
        self.heap: list = []
        self._seq = 0
        self.deliver = _no_delivery
        self.on_flow = None
        self._lat_us = int(params.latency_ms * 1000)
        self._jit_us = params.jitter_ms * 1000

    # -- topology -----------------------------------------------------------------------
    def add_node(self, sid: int, relay: bool = True) -> Node:
        node = Node(sid, relay, self.params.msg_cache_entries)
        self.nodes[sid] = node
        return node

    def link(self, a: int, b: int, loss: float) -> None:
        na, nb = self.nodes[a], self.nodes[b]
        na.links = [(n, l) for n, l in na.links if n is not nb] + [(nb, loss)]
        nb.links = [(n, l) for n, l in nb.links if n is not na] + [(na, loss)]

    # -- the clock ----------------------------------------------------------------------
    def schedule(self, t_us: int, action: int, a, b) -> None:
        self._seq += 1
        heapq.heappush(self.heap, (t_us, self._seq, action, a, b))

    def handle(self, t_us: int, action: int, a, b) -> None:
        if action == RECEIVE:
            self.receive(a, b, t_us)
        else:
            self.retry(a, b, t_us)

    # -- sending ------------------------------------------------------------------------
    def send(self, src: int, dst: int, data: bytes, do_not_relay: bool, t_us: int) -> bool:
        """A microapp's MESH send, accepted by bluenet's request handler (size 1..7 checked
        there). Returns False when the model's queue is full: bluenet's addToQueue returns
        ERR_BUSY, which the request handler hands to the app (bluenetResultToMicroapp)."""
        node = self.nodes[src]
        ttl = 0 if do_not_relay else self.params.ttl
        if dst == 0:
            kind = BROADCAST_NO_RELAY if do_not_relay else BROADCAST
            # bluenet's remFromQueue(type MICROAPP, id 0) always asks the relaying model's queue
            # (cs_MeshModelSelector.cpp:59-66), whichever model the new message goes to.
            for i, old in enumerate(node.multicast.items):
                self.figures[old.kind].replaced += 1
                del node.multicast.items[i]
                break
            queue = node.neighbours if do_not_relay else node.multicast
            if len(queue.items) >= queue.size:
                self.figures[kind].queue_full += 1
                return False
            msg = self._new(kind, src, 0, data, t_us, ttl, self.params.broadcast_transmissions)
            queue.items.append(msg)
            queue.next = len(queue.items) - 1  # sent next (cs_MeshModelMulticast.cpp:169)
            node.queued = True
            return True
        kind = TARGETED_NO_RELAY if do_not_relay else TARGETED
        while node.unicast:  # bluenet's remFromQueue(type MICROAPP, id 0)
            self.figures[node.unicast.popleft().kind].replaced += 1
        if node.uc_current is not None:
            # bluenet forgets the item in progress ("TODO: Cancel progress"); Nordic's transfer
            # goes on until its reply or timeout, and holds back the next one until then.
            node.uc_current = None
        if len(node.unicast) >= UNICAST_QUEUE:
            self.figures[kind].queue_full += 1
            return False
        msg = self._new(kind, src, dst, data, t_us, ttl, 0)
        node.unicast.append(msg)
        self._send_unicast(node, t_us)
        node.queued = node.queued or bool(node.unicast)
        return True

    def mesh_tick(self, node: Node, t_us: int) -> None:
        """bluenet's mesh tick (every 100 ms): work both queues."""
        for queue in (node.multicast, node.neighbours):
            items = queue.items
            for _ in range(QUEUE_BURST):
                if not items:
                    break
                i = queue.next % len(items)
                msg = items[i]
                msg.transmissions -= 1
                self._originate(node, msg, t_us)
                if msg.transmissions <= 0:
                    del items[i]
                    queue.next = i
                else:
                    queue.next = i + 1
        if node.unicast and node.uc_current is None:
            self._send_unicast(node, t_us)
        node.queued = bool(node.multicast.items or node.neighbours.items or node.unicast)

    def _new(self, kind: str, src: int, dst: int, data: bytes, t_us: int, ttl: int, n: int) -> Message:
        self._mid = mid = self._mid + 1
        fig = self.figures[kind]
        fig.sent += 1
        msg = Message(mid, kind, fig, src, dst, data, t_us, ttl, n)
        if kind != REPLY:  # nothing looks at a reply after it arrived
            self.messages.append(msg)
        return msg

    def _send_unicast(self, node: Node, t_us: int) -> None:
        if node.uc_current is not None or node.uc_busy is not None or not node.unicast:
            return
        msg = node.unicast.popleft()
        node.uc_current = msg
        interval = (msg.ttl * RELIABLE_HOP_PENALTY_MS + RELIABLE_INTERVAL_MS) * 1000
        timeout = self.params.reliable_timeout_ms * 1000
        transfer = Transfer(msg, min(interval, timeout), t_us + timeout)
        node.uc_busy = transfer
        self._originate(node, msg, t_us)
        self._seq += 1  # schedule(), inlined
        heapq.heappush(self.heap, (t_us + transfer.interval_us, self._seq, RETRY, node, transfer))

    def retry(self, node: Node, transfer: Transfer, t_us: int) -> None:
        if transfer.finished:
            return
        msg = transfer.msg
        if t_us >= transfer.timeout_at:
            self._finish(node, transfer, t_us)
            msg.fig.timeouts += 1
            return
        msg.fig.retries += 1
        self._originate(node, msg, t_us)
        transfer.interval_us *= RELIABLE_BACK_OFF
        self.schedule(min(t_us + transfer.interval_us, transfer.timeout_at), RETRY, node, transfer)

    def _finish(self, node: Node, transfer: Transfer, t_us: int) -> None:
        transfer.finished = True
        node.uc_busy = None
        if node.uc_current is transfer.msg:
            node.uc_current = None
        # the next queued message goes at the next mesh tick (processQueue)

    # -- the air ------------------------------------------------------------------------
    def _originate(self, node: Node, msg: Message, t_us: int) -> None:
        sid = node.sid
        seq = node.seq = node.seq + 1
        msg.fig.transmissions += 1
        key = (sid << 32) | seq
        ttl = msg.ttl
        if ttl >= 2:  # its own PDU coming back is dropped
            _cache(node, key)
        else:
            node.cache_n += 1
        self._transmit(node, (sid, seq, msg.dst, ttl, msg), ttl, t_us, key)

    def _transmit(self, node: Node, pdu: tuple, ttl: int, t_us: int, key: int) -> None:
        """Send a PDU (key: its (source, sequence number) as the caches hold it)."""
        rnd = self.rng.random
        fig = pdu[4].fig
        dst = pdu[2]
        # One advertiser per stone: its PDUs go out one per advertising event, in order, and
        # one packet in the air reaches every neighbour at the same moment.
        free = node.tx_free
        t = (t_us if t_us > free else free) + self._lat_us + int(rnd() * self._jit_us)
        node.tx_free = t
        item = (pdu, ttl)
        relayed = ttl >= 2
        again = pdu[3] >= 2  # the PDU may come again (relayed)
        heap, push, seq = self.heap, heapq.heappush, self._seq
        for nb, loss in node.links:
            if loss and rnd() < loss:
                fig.lost += 1
                continue
            if dst == 0 or nb.sid == dst or (relayed and nb.relay):
                seq += 1
                push(heap, (t, seq, RECEIVE, nb, item))
            elif again:  # it can neither deliver nor relay this PDU: only its cache notices
                if _seen(nb, key):
                    fig.duplicates += 1
                else:
                    _cache(nb, key)
            else:  # heard once: it only takes its place in the cache
                nb.cache_n += 1
        self._seq = seq

    def receive(self, node: Node, item: tuple, t_us: int) -> None:
        """A PDU reaches a node (a RECEIVE event of the heap)."""
        pdu, ttl = item
        src, seq, dst, ttl0, msg = pdu
        fig = msg.fig
        key = (src << 32) | seq
        if ttl0 >= 2:
            if _seen(node, key):
                fig.duplicates += 1
                return
            _cache(node, key)
        else:  # heard once (see Node): only its place in the cache
            node.cache_n += 1
        sid = node.sid
        if dst == 0 or dst == sid:
            if node.replay.get(src, 0) >= seq:
                fig.replayed += 1
            else:
                node.replay[src] = seq
                self._arrive(node, msg, ttl0 - ttl + 1, t_us, ttl)
        if ttl >= 2 and node.relay and dst != sid:
            fig.relayed += 1
            self._transmit(node, pdu, ttl - 1, t_us, key)

    def _arrive(self, node: Node, msg: Message, hops: int, t_us: int, ttl: int) -> None:
        fig = msg.fig
        fig.delivered += 1
        fig.hops.append(hops)
        fig.latency_us.append(t_us - msg.sent_us)
        sid = node.sid
        if self.on_flow is not None:
            self.on_flow(msg, sid, t_us)
        if msg.kind == REPLY:  # at the stone it answers (a reply is never a broadcast)
            transfer = node.uc_busy
            # Nordic matches a reply by its opcode only: any reply ends the transfer running.
            if transfer is not None and not transfer.finished:
                transfer.msg.fig.acked += 1
                self._finish(node, transfer, t_us)
            return
        delivered = msg.delivered_to
        if delivered is None:
            msg.delivered_to = {sid: t_us}
        elif sid not in delivered:
            delivered[sid] = t_us
        self.deliver(node, msg.src, msg.data, t_us)
        if msg.dst == sid:  # the receiving bluenet answers with an empty reply
            reply = self._new(REPLY, sid, msg.src, b"", t_us, 0 if ttl == 0 else self.params.ttl, 0)
            self._originate(node, reply, t_us)

    # -- figures ------------------------------------------------------------------------
    def report(self) -> dict:
        undelivered = dict.fromkeys(KINDS, 0)
        for msg in self.messages:
            if msg.kind in (TARGETED, TARGETED_NO_RELAY) and msg.dst not in (msg.delivered_to or ()):
                undelivered[msg.kind] += 1
        out = {}
        for kind, f in self.figures.items():
            if f.sent:
                out[kind] = f.report()
                out[kind]["undelivered"] = undelivered[kind]
        return out


def _seen(node: Node, key: int) -> bool:
    """Whether the PDU is in the node's cache (one sent with TTL >= 2)."""
    at = node.cache_at.get(key)
    return at is not None and at >= node.cache_n - node.cache_size


def _cache(node: Node, key: int) -> None:
    """Put a PDU sent with TTL >= 2 in the node's cache; forget those the ring has dropped
    now and then (when twice as many are kept)."""
    at = node.cache_at
    at[key] = node.cache_n
    node.cache_n += 1
    if len(at) > 2 * node.cache_size:
        oldest = node.cache_n - node.cache_size
        node.cache_at = {k: n for k, n in at.items() if n >= oldest}


def _no_delivery(node: Node, sender: int, data, t_us: int) -> None:
    pass
