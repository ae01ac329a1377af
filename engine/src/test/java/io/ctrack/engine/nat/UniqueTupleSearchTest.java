package io.ctrack.engine.nat;

import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.key.SymmetricHash;
import io.ctrack.engine.packet.Protocols;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.ctrack.engine.nat.NatConntrackTest.v4;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The candidate order of Open vSwitch's nat_get_unique_tuple. */
class UniqueTupleSearchTest
{
    private final UniqueTupleSearch search = new UniqueTupleSearch(12345, 678);

    private static CtRequest udp(final String src, final int sport, final String dst, final int dport)
    {
        final CtRequest r = new CtRequest().nwProto(Protocols.IPPROTO_UDP).zone(3).src(0, v4(src)).dst(0, v4(dst))
            .srcL4(sport << 16).dstL4(dport << 16);
        return r.hash(SymmetricHash.of(r));
    }

    private List<CtRequest> all(final CtRequest fwd, final NatSpec spec)
    {
        search.start(fwd, spec);
        final List<CtRequest> out = new ArrayList<>();
        CtRequest c = new CtRequest();
        while (search.next(c))
        {
            out.add(c);
            c = new CtRequest();
        }
        assertEquals(out.size(), search.tries());
        return out;
    }

    @Test
    void shouldTryTheOwnPortFirstThenTheNextOnesThenHalvingWindowsUpTo248()
    {
        final CtRequest fwd = udp("10.0.0.1", 5000, "10.0.0.2", 53);
        final List<CtRequest> c = all(fwd, NatConntrackTest.snat("10.9.0.1", "10.9.0.1", 0, 0));
        assertEquals(128 + 64 + 32 + 16 + 8, c.size());
        for (int i = 0; i < 128; i++)
        {
            assertEquals(5000 + i, c.get(i).dstL4() >>> 16, "first window: consecutive ports from the packet's own");
        }
        for (final CtRequest k : c)
        {
            // The reply key: server to the NAT address, server port unchanged, hash consistent.
            assertEquals(v4("10.0.0.2"), k.srcLo());
            assertEquals(53, k.srcL4() >>> 16);
            assertEquals(v4("10.9.0.1"), k.dstLo());
            assertTrue((k.dstL4() >>> 16) >= 1024, "an ephemeral port stays ephemeral");
            assertEquals(3, k.zone());
            assertEquals(SymmetricHash.of(k), k.hash());
        }
    }

    @Test
    void shouldKeepPortsInTheirClassAndInAGivenRange()
    {
        for (final CtRequest k : all(udp("10.0.0.1", 100, "10.0.0.2", 53), NatConntrackTest.snat("10.9.0.1", "10.9.0.1", 0, 0)))
        {
            final int port = k.dstL4() >>> 16;
            assertTrue(port >= 1 && port <= 511, "port " + port);
        }
        for (final CtRequest k : all(udp("10.0.0.1", 700, "10.0.0.2", 53), NatConntrackTest.snat("10.9.0.1", "10.9.0.1", 0, 0)))
        {
            final int port = k.dstL4() >>> 16;
            assertTrue(port >= 600 && port <= 1023, "port " + port);
        }
        final List<CtRequest> ranged = all(udp("10.0.0.1", 5000, "10.0.0.2", 53), NatConntrackTest.snat("10.9.0.1", "10.9.0.1", 2000, 2009));
        assertEquals(10, ranged.size(), "a range of 10 is tried once, port by port");
        final Set<Integer> ports = new HashSet<>();
        ranged.forEach(k -> ports.add(k.dstL4() >>> 16));
        assertEquals(10, ports.size());
        ports.forEach(p -> assertTrue(p >= 2000 && p <= 2009));
    }

    @Test
    void shouldChooseTheAddressInTheRangeAndKeepItPersistentPerSource()
    {
        final NatSpec spec = NatSpec.of(true, false, 0, v4("10.9.0.0"), 0, v4("10.9.0.255"), 0, 0, NatSpec.FLAG_PERSISTENT);
        final Set<Long> chosen = new HashSet<>();
        for (int dport = 1; dport < 50; dport++)
        {
            final CtRequest k = all(udp("10.0.0.1", 4000 + dport, "10.0.0." + dport, dport), spec).get(0);
            chosen.add(k.dstLo());
            assertTrue(k.dstLo() >= v4("10.9.0.0") && k.dstLo() <= v4("10.9.0.255"));
        }
        assertEquals(1, chosen.size(), "persistent: one source address, one NAT address");
    }

    @Test
    void shouldSearchTheDestinationPortRangeFirstForDnat()
    {
        final List<CtRequest> c = all(udp("10.0.0.1", 5000, "1.2.3.4", 80), NatConntrackTest.dnat("10.0.0.100", 8080));
        assertEquals(8080, c.get(0).srcL4() >>> 16);
        assertEquals(v4("10.0.0.100"), c.get(0).srcLo());
        assertEquals(5000, c.get(0).dstL4() >>> 16);
        // After the single destination port, the source port is searched with the destination port kept.
        assertEquals(8080, c.get(1).srcL4() >>> 16);
        assertEquals(5000, c.get(1).dstL4() >>> 16);
        assertEquals(5001, c.get(2).dstL4() >>> 16);
    }

    @Test
    void shouldMoveBothIcmpIdsAndGiveOtherProtocolsOneCandidate()
    {
        final CtRequest ping = new CtRequest().nwProto(Protocols.IPPROTO_ICMP).src(0, v4("10.0.0.1")).dst(0, v4("8.8.8.8"))
            .srcL4(900 << 16 | 8 << 8).dstL4(900 << 16);
        ping.hash(SymmetricHash.of(ping));
        final List<CtRequest> c = all(ping, NatConntrackTest.snat("10.9.0.1", "10.9.0.1", 0, 0));
        assertEquals(901, c.get(1).srcL4() >>> 16);
        assertEquals(901, c.get(1).dstL4() >>> 16);
        assertEquals(8, c.get(1).dstL4() >>> 8 & 0xFF, "types and codes are kept");

        final CtRequest gre = new CtRequest().nwProto(47).src(0, v4("10.0.0.1")).dst(0, v4("10.0.0.2"));
        gre.hash(SymmetricHash.of(gre));
        assertEquals(1, all(gre, NatConntrackTest.snat("10.9.0.1", "10.9.0.1", 0, 0)).size());
        search.start(gre, NatConntrackTest.snat("10.9.0.1", "10.9.0.1", 0, 0));
        assertTrue(search.next(new CtRequest()));
        assertFalse(search.next(new CtRequest()));
    }

    @Test
    void shouldRoundTripItsWireEncodingAndText()
    {
        final NatSpec spec = NatSpec.of(false, true, 0x20010db8_00000000L, 1, 0x20010db8_00000000L, 9, 80, 90, NatSpec.FLAG_RANDOM);
        final org.agrona.concurrent.UnsafeBuffer b = new org.agrona.concurrent.UnsafeBuffer(new byte[NatSpec.ENCODED_LENGTH]);
        spec.writeTo(b, 0);
        assertEquals(spec, NatSpec.readFrom(b, 0));
        assertTrue(spec.encodedEquals(b, 0));
        assertEquals("nat(dst=[2001:db8::1]-[2001:db8::9]:80-90,random)", spec.toString());
        assertEquals("nat(src=10.9.0.1)", NatConntrackTest.snat("10.9.0.1", "10.9.0.1", 0, 0).toString());
    }
}
