package io.ctrack.engine.frag;

import io.ctrack.engine.Conntrack;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.status.EngineCounters;
import io.ctrack.engine.table.ConnTableConfig;
import io.ctrack.engine.testing.ConntrackDriver;
import io.ctrack.engine.testing.PacketBuilder;
import io.ctrack.engine.testing.TestPackets;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Fragment reassembly with Open vSwitch's rules ({@code lib/ipf.c}: {@code ipf_is_valid_v4_frag},
 * {@code ipf_is_valid_v6_frag}, {@code ipf_is_frag_duped}, {@code ipf_list_complete}, {@code ipf_reassemble_v*},
 * {@code ipf_delete_expired_frags} with its 15 s {@code IPF_FRAG_LIST_TIMEOUT}), through the engine: a completed
 * datagram is tracked once and every fragment gets its verdict, in the batch or later through the listener.
 */
class FragmentReassemblerTest
{
    private static final long T0 = 50_000_000L;

    /** UDP 45001 -> 5001 with 2400 bytes of payload: 2408 bytes of IP payload. */
    private static PacketBuilder datagram()
    {
        return TestPackets.ipv4("10.0.0.1", "10.0.0.2").ipId(0x77).udp(45001, 5001).payload(2400);
    }

    private static byte[] reply()
    {
        return TestPackets.ipv4("10.0.0.2", "10.0.0.1").udp(5001, 45001).payload(10).build();
    }

    /** Records what the engine tells about fragments of earlier batches. */
    private static final class Listener implements Conntrack.FragmentListener
    {
        final Map<Long, String> verdictByTag = new HashMap<>();
        final List<Long> dropped = new ArrayList<>();

        @Override
        public void onVerdict(final long tag, final Verdict verdict)
        {
            verdictByTag.put(tag, CtState.format(verdict.ctState()));
        }

        @Override
        public void onDropped(final long tag)
        {
            dropped.add(tag);
        }
    }

    private final Listener listener = new Listener();
    private final FrameParser parser = new FrameParser();
    private final ParsedFrame parsed = new ParsedFrame();

    /** Offers {@code frame} (zone 0, at T0) straight to {@code reassembler}. */
    private int offer(final FragmentReassembler reassembler, final byte[] frame, final long tag)
    {
        parser.parse(TestPackets.buffer(frame), 0, frame.length, parsed);
        return reassembler.offer(parsed, 0, tag, T0);
    }
    private final ConntrackDriver ct = new ConntrackDriver(new Conntrack().fragmentListener(listener));

    private static String flags(final Verdict v)
    {
        return CtState.format(v.ctState());
    }

    private static boolean held(final Verdict v)
    {
        return (v.flags() & Verdict.FLAG_HELD) != 0;
    }

    // ---- IPv4 --------------------------------------------------------------------------------------------------

    @Test
    void shouldGiveTheDatagramsVerdictToEveryFragmentOfTheBatch()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram(), 1400);
        final List<Verdict> verdicts = ct.batch(T0, fragments.get(0), fragments.get(1));
        assertEquals("new|trk", flags(verdicts.get(0)));
        assertEquals("new|trk", flags(verdicts.get(1)));
        assertEquals(verdicts.get(0).connId(), verdicts.get(1).connId());
        assertNotEquals(0, verdicts.get(0).connId());
        assertEquals(1, ct.conntrack().table().size());
        assertEquals(1, ct.counter(EngineCounter.FRAG_REASSEMBLED));
        assertEquals("est|rpl|trk", ct.flags(reply(), T0));
        assertTrue(listener.verdictByTag.isEmpty());
    }

    @Test
    void shouldHoldAFragmentAndTellItsVerdictWhenALaterBatchCompletesTheDatagram()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram(), 1400);
        final long firstTag = ct.conntrack().nextTag();
        final Verdict first = ct.send(fragments.get(0), T0);
        assertTrue(held(first));
        assertEquals("0", flags(first));
        assertEquals(0, ct.conntrack().table().size());

        assertEquals("new|trk", flags(ct.send(fragments.get(1), T0 + 5)));
        assertEquals(Map.of(firstTag, "new|trk"), listener.verdictByTag);
    }

    @Test
    void shouldReassembleFragmentsArrivingInReverseOrder()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram().payload(3000), 1400, 1400);
        assertEquals(List.of("new|trk", "new|trk", "new|trk"),
            ct.batchFlags(T0, fragments.get(2), fragments.get(1), fragments.get(0)));
    }

    @Test
    void shouldTellEveryEarlierFragmentItsVerdict()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram().payload(3000), 1400, 1400);
        final long tag = ct.conntrack().nextTag();
        assertEquals("0", ct.flags(fragments.get(1), T0));
        assertEquals("0", ct.flags(fragments.get(2), T0));
        assertEquals("new|trk", ct.flags(fragments.get(0), T0));
        assertEquals(Map.of(tag, "new|trk", tag + 1, "new|trk"), listener.verdictByTag);
    }

    @Test
    void shouldRefuseADuplicateFragment()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram().udpChecksum(0), 1400);
        final List<Verdict> verdicts = ct.batch(T0, fragments.get(0), fragments.get(0), fragments.get(1));
        assertEquals("new|trk", flags(verdicts.get(0)));
        assertEquals("inv|trk", flags(verdicts.get(1)));
        assertEquals(EngineCounter.FRAG_INVALID.id(), verdicts.get(1).reason());
        assertEquals("new|trk", flags(verdicts.get(2)));
    }

    /**
     * Open vSwitch keeps a completed datagram's list until the end of the batch and does not hold fragments that
     * match it: a duplicate after the completing fragment is tracked as it is (a non-first IPv4 fragment is
     * {@code inv}); in the next batch the same fragment starts a new datagram and is held.
     */
    @Test
    void shouldTrackAFragmentOfADatagramCompletedEarlierInTheBatchAsItIs()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram(), 1400);
        assertEquals(List.of("new|trk", "new|trk", "inv|trk"),
            ct.batchFlags(T0, fragments.get(0), fragments.get(1), fragments.get(1)));
        assertEquals(1, ct.counter(EngineCounter.FRAG_REASSEMBLED));

        final Verdict again = ct.send(fragments.get(1), T0 + 1);
        assertTrue(held(again));
        assertEquals("0", flags(again));
        assertEquals("new|trk", ct.flags(fragments.get(0), T0 + 2));
        assertEquals(2, ct.counter(EngineCounter.FRAG_REASSEMBLED));
    }

    @Test
    void shouldPassFragmentsOfACompletedDatagramOnlyUntilTheBatchEnds()
    {
        final FragmentReassembler reassembler = new FragmentReassembler(FragConfig.DEFAULT, new EngineCounters());
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram(), 1400);
        assertEquals(FragmentReassembler.HELD, offer(reassembler, fragments.get(0), 1));
        assertEquals(FragmentReassembler.COMPLETED, offer(reassembler, fragments.get(1), 2));
        reassembler.releaseCompleted();
        assertEquals(0, reassembler.heldFragments());
        assertEquals(FragmentReassembler.PASS, offer(reassembler, fragments.get(1), 3));
        // Expiry does not touch the completed list (its time has passed here), the end of the batch does.
        assertEquals(0, reassembler.expire(T0 + 60_000, null));
        assertEquals(FragmentReassembler.PASS, offer(reassembler, fragments.get(1), 4));
        reassembler.endBatch();
        assertEquals(FragmentReassembler.HELD, offer(reassembler, fragments.get(1), 5));
        assertEquals(1, reassembler.heldFragments());
    }

    @Test
    void shouldPassANewDatagramsFragmentWhenCompletedListsTakeEveryList()
    {
        final EngineCounters counters = new EngineCounters();
        // Two slots, so two lists: one completed in this batch (no slot, its list kept), one holding a fragment.
        final FragmentReassembler reassembler = new FragmentReassembler(
            new FragConfig(2, 2048, 1200, 1280, 64, 15_000), counters);
        final List<byte[]> a = TestPackets.fragmentsV4(datagram().ipId(1), 1400);
        final List<byte[]> b = TestPackets.fragmentsV4(datagram().ipId(2), 1400);
        final List<byte[]> c = TestPackets.fragmentsV4(datagram().ipId(3), 1400);
        assertEquals(FragmentReassembler.HELD, offer(reassembler, a.get(0), 1));
        assertEquals(FragmentReassembler.COMPLETED, offer(reassembler, a.get(1), 2));
        reassembler.releaseCompleted();
        assertEquals(FragmentReassembler.HELD, offer(reassembler, b.get(0), 3));
        assertEquals(FragmentReassembler.PASS, offer(reassembler, c.get(0), 4));
        assertEquals(1, counters.get(EngineCounter.FRAG_TABLE_FULL));
        reassembler.endBatch();
        assertEquals(FragmentReassembler.HELD, offer(reassembler, c.get(0), 5));
    }

    @Test
    void shouldRefuseAFragmentOverlappingOneHeld()
    {
        final PacketBuilder dg = datagram();
        final byte[] first = TestPackets.fragmentV4(dg, 0, 1400, true);
        final byte[] overlapping = TestPackets.fragmentV4(dg, 1392, 2408 - 1392, false);
        final byte[] last = TestPackets.fragmentV4(dg, 1400, 1008, false);
        assertEquals(List.of("new|trk", "inv|trk", "new|trk"), ct.batchFlags(T0, first, overlapping, last));
    }

    @Test
    void shouldRefuseASmallNonLastFragmentButHoldASmallLastOne()
    {
        final PacketBuilder dg = TestPackets.ipv4("10.0.0.1", "10.0.0.2").ipId(5).udp(45005, 5001).payload(600);
        final List<byte[]> fragments = TestPackets.fragmentsV4(dg, 512);
        assertEquals(532, fragments.get(0).length - 14);
        final Verdict small = ct.send(fragments.get(0), T0);
        assertEquals("inv|trk", flags(small));
        assertEquals(EngineCounter.FRAG_INVALID.id(), small.reason());
        assertTrue(held(ct.send(fragments.get(1), T0)));
    }

    @Test
    void shouldAcceptANonLastFragmentOfExactlyTheMinimumSize()
    {
        // 1176 bytes of data (a multiple of 8): 1196 bytes with a plain header, 1200 with 4 bytes of options.
        final List<byte[]> tooSmall = TestPackets.fragmentsV4(datagram(), 1176);
        assertEquals(1196, tooSmall.get(0).length - 14);
        assertEquals("inv|trk", ct.flags(tooSmall.get(0), T0));
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram().ipOptions(new byte[] { 1, 1, 1, 1 }), 1176);
        assertEquals(1200, fragments.get(0).length - 14);
        assertEquals(List.of("new|trk", "new|trk"), ct.batchFlags(T0, fragments.get(0), fragments.get(1)));
    }

    @Test
    void shouldDropAnIncompleteDatagramFifteenSecondsAfterItsFirstFragment()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram(), 1400);
        final long tag = ct.conntrack().nextTag();
        assertEquals("0", ct.flags(fragments.get(0), T0));
        ct.flags(reply(), T0 + 15_000);
        assertTrue(listener.dropped.isEmpty(), "dropped at exactly 15 s");
        ct.flags(reply(), T0 + 15_001);
        assertEquals(List.of(tag), listener.dropped);
        assertEquals(1, ct.counter(EngineCounter.FRAG_EXPIRED));
        // The datagram is gone: its last fragment alone is held again, as the start of a new list.
        assertEquals("0", ct.flags(fragments.get(1), T0 + 15_002));
    }

    @Test
    void shouldRefuseAFragmentWithABadHeaderChecksum()
    {
        final PacketBuilder dg = datagram().moreFragments().badIpChecksum().payload(1400);
        final Verdict v = ct.send(dg.build(), T0);
        assertEquals("inv|trk", flags(v));
        assertEquals(EngineCounter.INVALID_L3_CHECKSUM.id(), v.reason());
    }

    @Test
    void shouldGiveEveryFragmentAnInvalidDatagramsVerdict()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram().badL4Checksum(), 1400);
        final List<Verdict> verdicts = ct.batch(T0, fragments.get(0), fragments.get(1));
        assertEquals("inv|trk", flags(verdicts.get(0)));
        assertEquals("inv|trk", flags(verdicts.get(1)));
        assertEquals(EngineCounter.INVALID_L4_CHECKSUM.id(), verdicts.get(1).reason());
        assertEquals(0, ct.conntrack().table().size());
    }

    @Test
    void shouldNotCombineFragmentsOfDifferentZones()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram(), 1400);
        assertTrue(held(ct.send(fragments.get(0), ExecParams.commit(1), T0)));
        assertTrue(held(ct.send(fragments.get(1), ExecParams.commit(2), T0)));
        assertEquals(0, ct.conntrack().table().size());
    }

    @Test
    void shouldTrackFragmentsAsTheyAreWhenFragmentMemoryIsFull()
    {
        final ConntrackDriver small = new ConntrackDriver(
            new Conntrack(ConnTableConfig.of(0, 64), new FragConfig(2, 2048, 1200, 1280, 64, 15_000)));
        final List<byte[]> a = TestPackets.fragmentsV4(datagram().ipId(1), 1400);
        final List<byte[]> b = TestPackets.fragmentsV4(datagram().ipId(2), 1400);
        assertTrue(held(small.send(a.get(0), T0)));
        assertTrue(held(small.send(b.get(0), T0)));

        // Memory full: a later fragment reaches tracking unreassembled and is invalid there, as in Open vSwitch.
        final Verdict later = small.send(TestPackets.fragmentsV4(datagram().ipId(3), 1400).get(1), T0);
        assertEquals("inv|trk", flags(later));
        assertEquals(EngineCounter.INVALID_FRAGMENT.id(), later.reason());
        // A first fragment of a protocol without L4 checks is tracked as it is.
        final PacketBuilder gre = TestPackets.ipv4("10.0.0.1", "10.0.0.2").ipId(4).rawL4(47, new byte[2000]);
        assertEquals("new|trk", flags(small.send(TestPackets.fragmentsV4(gre, 1400).get(0), T0)));
        // Even the fragment that would complete a held datagram is not taken while memory is full: ipf_handle_frag
        // checks nfrag >= nfrag_max before it looks for the datagram's list.
        assertEquals("inv|trk", flags(small.send(a.get(1), T0)));
        assertEquals(3, small.counter(EngineCounter.FRAG_TABLE_FULL));
        // Room again once the held datagrams expire.
        small.send(reply(), T0 + 15_001);
        assertTrue(held(small.send(a.get(1), T0 + 15_002)));
    }

    @Test
    void shouldRebuildTheOriginalDatagram()
    {
        final FragmentReassembler reassembler = new FragmentReassembler(FragConfig.DEFAULT, new EngineCounters());
        final PacketBuilder dg = datagram().payload(3000);
        final List<byte[]> fragments = TestPackets.fragmentsV4(dg, 1400, 1400);
        final int[] outcomes = new int[3];
        final int[] order = { 1, 2, 0 };
        for (int i = 0; i < 3; i++)
        {
            outcomes[i] = offer(reassembler, fragments.get(order[i]), 100 + order[i]);
        }
        assertArrayEquals(new int[] { FragmentReassembler.HELD, FragmentReassembler.HELD, FragmentReassembler.COMPLETED },
            outcomes);
        final ParsedFrame whole = reassembler.reassembled();
        final byte[] rebuilt = new byte[whole.l3Size()];
        whole.buffer().getBytes(whole.l3Offset(), rebuilt);
        assertArrayEquals(dg.datagram(), rebuilt);
        assertEquals(17, whole.nwProto());
        assertEquals(3, reassembler.completedCount());
        final List<Long> tags = new ArrayList<>();
        for (int i = 0; i < 3; i++)
        {
            tags.add(reassembler.completedTag(i));
        }
        assertEquals(List.of(100L, 101L, 102L), tags);
        reassembler.releaseCompleted();
        assertEquals(0, reassembler.heldFragments());
    }

    @Test
    void shouldPassRatherThanHoldWhenEverySlotIsTaken()
    {
        final EngineCounters counters = new EngineCounters();
        final FragmentReassembler reassembler = new FragmentReassembler(
            new FragConfig(1, 2048, 1200, 1280, 64, 15_000), counters);
        final List<byte[]> fragments = TestPackets.fragmentsV4(datagram(), 1400);
        assertEquals(FragmentReassembler.HELD, offer(reassembler, fragments.get(0), 1));
        assertEquals(FragmentReassembler.PASS, offer(reassembler, fragments.get(1), 2));
        assertEquals(1, counters.get(EngineCounter.FRAG_TABLE_FULL));
        assertEquals(1, reassembler.heldFragments());
        final List<Long> dropped = new ArrayList<>();
        assertEquals(0, reassembler.expire(T0 + 15_000, dropped::add));
        assertEquals(1, reassembler.expire(T0 + 15_001, dropped::add));
        assertEquals(List.of(1L), dropped);
        assertEquals(0, reassembler.heldFragments());
    }

    // ---- IPv6 --------------------------------------------------------------------------------------------------

    private static PacketBuilder datagram6()
    {
        return TestPackets.ipv6("fd00::1", "fd00::2").udp(45001, 5001).payload(2000);
    }

    @Test
    void shouldReassembleIpv6Fragments()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV6(datagram6(), 0x1234, 1240);
        assertEquals(List.of("new|trk", "new|trk"), ct.batchFlags(T0, fragments.get(1), fragments.get(0)));
        assertEquals("est|rpl|trk",
            ct.flags(TestPackets.ipv6("fd00::2", "fd00::1").udp(5001, 45001).payload(1).build(), T0));
    }

    @Test
    void shouldHoldIpv6FragmentsAcrossBatches()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV6(datagram6(), 9, 1240);
        final long tag = ct.conntrack().nextTag();
        assertEquals("0", ct.flags(fragments.get(0), T0));
        assertEquals("new|trk", ct.flags(fragments.get(1), T0 + 1));
        assertEquals(Map.of(tag, "new|trk"), listener.verdictByTag);
    }

    @Test
    void shouldRefuseASmallNonLastIpv6Fragment()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV6(datagram6(), 9, 800);
        final Verdict v = ct.send(fragments.get(0), T0);
        assertEquals("inv|trk", flags(v));
        assertEquals(EngineCounter.FRAG_INVALID.id(), v.reason());
        final List<byte[]> exact = TestPackets.fragmentsV6(datagram6(), 10, 1280 - 48);
        assertEquals(1280, exact.get(0).length - 14);
        assertTrue(held(ct.send(exact.get(0), T0)));
    }

    @Test
    void shouldRefuseADuplicateIpv6Fragment()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV6(datagram6(), 11, 1240);
        assertEquals(List.of("new|trk", "inv|trk", "new|trk"),
            ct.batchFlags(T0, fragments.get(1), fragments.get(1), fragments.get(0)));
    }

    @Test
    void shouldTrackAnIpv6FragmentOfADatagramCompletedEarlierInTheBatchAsItIs()
    {
        final List<byte[]> fragments = TestPackets.fragmentsV6(datagram6(), 12, 1240);
        assertEquals(List.of("new|trk", "new|trk", "inv|trk"),
            ct.batchFlags(T0, fragments.get(1), fragments.get(0), fragments.get(1)));
        assertEquals("0", ct.flags(fragments.get(1), T0 + 1));
    }

    @Test
    void shouldKeepIpv6DatagramsWithDifferentIdentificationsApart()
    {
        final List<byte[]> a = TestPackets.fragmentsV6(datagram6(), 1, 1240);
        final List<byte[]> b = TestPackets.fragmentsV6(datagram6(), 2, 1240);
        assertEquals(List.of("0", "0"), ct.batchFlags(T0, a.get(0), b.get(1)));
    }
}
