"""The radio model alone (host/mesh/radio.py): who gets which PDU, when, how often."""
import heapq

from host.mesh import radio as R


class Air:
    """A radio over a topology, run on its own heap; records every delivery to an app."""

    def __init__(self, links, params=None, seed=1, relay=()):
        self.radio = R.Radio(params or R.RadioParams(jitter_ms=0), seed)
        ids = sorted({s for a, b, *_ in links for s in (a, b)})
        for sid in ids:
            self.radio.add_node(sid, relay=sid not in relay)
        for a, b, *loss in links:
            self.radio.link(a, b, loss[0] if loss else 0.0)
        self.got = []  # (receiver, sender, data, t_us)
        self.radio.deliver = lambda node, sender, data, t: self.got.append((node.sid, sender, data, t))
        self.now = 0

    def send(self, src, dst, data=b"x", no_relay=False):
        return self.radio.send(src, dst, data, no_relay, self.now)

    def run(self, until_us, tick_us=100_000):
        """Every node's mesh tick each 100 ms, and the radio's events, in time order."""
        heap = self.radio.heap
        t = self.now
        while t < until_us:
            while heap and heap[0][0] <= t:
                e = heapq.heappop(heap)
                self.now = e[0]
                self.radio.handle(e[0], e[2], e[3], e[4])
            self.now = t
            for node in self.radio.nodes.values():
                self.radio.mesh_tick(node, t)
            t += tick_us
        return self

    def receivers(self, data=b"x"):
        return sorted({r for r, s, d, t in self.got if d == data})


def line(n):
    return [(i, i + 1) for i in range(1, n)]


def test_broadcast_is_relayed_to_every_stone_and_counts_its_hops():
    air = Air(line(5))
    air.send(1, 0)
    air.run(1_000_000)
    assert air.receivers() == [2, 3, 4, 5]
    f = air.radio.figures[R.BROADCAST]
    assert (min(f.hops), max(f.hops)) == (1, 4)
    assert f.relayed > 0


def test_broadcast_is_sent_three_times_and_each_transmission_reaches_the_app():
    air = Air([(1, 2)])
    air.send(1, 0)
    air.run(1_000_000)
    times = [t for r, s, d, t in air.got]
    assert len(times) == R.BROADCAST_TRANSMISSIONS == 3
    # all three in the first mesh tick (a burst of 3), one per advertising event of 20 ms
    assert times == [20_000, 40_000, 60_000]


def test_a_do_not_relay_broadcast_is_not_replaced_by_a_relayed_one_but_replaces_it():
    air = Air([(1, 2)])
    air.send(1, 0, b"n", no_relay=True)  # the neighbours model's queue
    air.send(1, 0, b"r")                 # the relaying model's queue: n stays
    air.send(1, 0, b"m", no_relay=True)  # removes r from the relaying model (bluenet's rule)
    air.run(1_000_000)
    assert sorted(d for r, s, d, t in air.got) == [b"m"] * 3 + [b"n"] * 3
    assert air.radio.figures[R.BROADCAST].replaced == 1


def test_ttl_is_the_hop_limit():
    air = Air(line(8), R.RadioParams(jitter_ms=0, ttl=3))
    air.send(1, 0)
    air.run(1_000_000)
    assert air.receivers() == [2, 3, 4]


def test_a_stone_that_does_not_relay_splits_the_line():
    air = Air(line(4), relay=(2,))
    air.send(1, 0)
    air.run(1_000_000)
    assert air.receivers() == [2]


def test_duplicates_arriving_by_two_paths_are_dropped_by_the_cache():
    # 1 - 2 - 4 and 1 - 3 - 4: stone 4 hears every transmission twice
    air = Air([(1, 2), (1, 3), (2, 4), (3, 4)])
    air.send(1, 0)
    air.run(1_000_000)
    assert [r for r, *_ in air.got].count(4) == 3  # once per transmission
    assert air.radio.figures[R.BROADCAST].duplicates >= 3


def test_a_do_not_relay_pdu_takes_its_place_in_the_cache():
    # 2 caches 1's broadcast, then 4's doNotRelay one, which pushes it out of a one-entry cache:
    # when 3 relays it back, 2 no longer knows it (replay protection drops it instead)
    def replayed(with_neighbours_pdu):
        air = Air([(1, 2), (2, 3), (2, 4)], R.RadioParams(jitter_ms=0, msg_cache_entries=1, broadcast_transmissions=1))
        air.send(1, 0)
        if with_neighbours_pdu:
            air.send(4, 0, b"y", no_relay=True)
        air.run(150_000)
        return air.radio.figures[R.BROADCAST].replayed
    assert replayed(False) == 0
    assert replayed(True) > 0


def test_do_not_relay_reaches_only_direct_neighbours():
    air = Air(line(4))
    air.send(2, 0, no_relay=True)
    air.run(1_000_000)
    assert air.receivers() == [1, 3]
    assert air.radio.figures[R.BROADCAST_NO_RELAY].relayed == 0


def test_targeted_do_not_relay_to_a_stone_two_hops_away_never_arrives():
    air = Air(line(3))
    air.send(1, 3, no_relay=True)
    air.run(12_000_000)
    assert air.got == []
    assert air.radio.figures[R.TARGETED_NO_RELAY].timeouts == 1


def test_targeted_message_is_acked_by_the_target_and_not_retried():
    air = Air(line(3))
    air.send(1, 3)
    air.run(3_000_000)
    assert [(r, s) for r, s, d, t in air.got] == [(3, 1)]
    f = air.radio.figures[R.TARGETED]
    assert (f.acked, f.retries, f.timeouts) == (1, 0, 0)
    assert air.radio.figures[R.REPLY].delivered == 1
    assert air.receivers() == [3]  # relays forward it, only the target's app gets it


def test_targeted_message_without_reply_is_retried_with_nordics_back_off_until_the_timeout():
    air = Air([(1, 2, 0.0), (2, 3, 0.0)])
    air.radio.link(2, 3, 1.0)  # 3 never hears anything
    air.send(1, 3)
    air.run(12_000_000)
    f = air.radio.figures[R.TARGETED]
    # interval = TTL 10 x 20 ms + 200 ms = 400 ms, doubling: sends at 0, 0.4, 1.2, 2.8, 6.0 s;
    # the 10 s timeout comes before the next (12.4 s)
    assert (f.transmissions, f.retries, f.timeouts, f.acked) == (5, 4, 1, 0)


def test_a_lost_reply_makes_the_target_app_see_the_message_again():
    air = Air([(1, 2)])
    air.radio.nodes[2].links = []  # 2 hears 1, 1 never hears 2
    air.radio.nodes[1].links = [(air.radio.nodes[2], 0.0)]
    air.send(1, 2)
    air.run(12_000_000)
    assert [r for r, *_ in air.got] == [2] * 5


def test_a_new_send_replaces_the_broadcast_still_queued():
    air = Air([(1, 2)])
    air.send(1, 0, b"old")
    air.send(1, 0, b"new")  # same tick: bluenet's remFromQueue drops the first
    air.run(1_000_000)
    assert [d for r, s, d, t in air.got] == [b"new"] * 3
    assert air.radio.figures[R.BROADCAST].replaced == 1


def test_loss_drops_receptions_at_the_links_rate():
    air = Air([(1, 2, 0.3)], relay=(2,))
    for i in range(200):
        air.send(1, 0, bytes([i]))
        air.run(air.now + 400_000)
    got = len(air.got) / 600
    assert 0.6 < got < 0.8
    assert air.radio.figures[R.BROADCAST].lost == 600 - len(air.got)


def test_loss_of_one_delivers_nothing():
    air = Air([(1, 2, 1.0)])
    air.send(1, 0)
    air.run(1_000_000)
    assert air.got == []


def test_same_seed_same_air_other_seed_other_air():
    def times(seed):
        air = Air(line(4), R.RadioParams(loss=0.0, jitter_ms=10), seed=seed)
        air.radio.link(1, 2, 0.2)
        for _ in range(20):
            air.send(1, 0)
            air.run(air.now + 400_000)
        return [t for *_, t in air.got]
    assert times(5) == times(5)
    assert times(5) != times(6)
