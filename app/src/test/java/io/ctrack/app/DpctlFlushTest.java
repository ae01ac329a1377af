package io.ctrack.app;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.shards.AdminActor;
import io.ctrack.engine.status.EngineCounter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code ctrack dpctl} end to end, reading and removing connections: {@code dump-conntrack} and
 * {@code ct-stats-show} print what Open vSwitch's {@code ovs-dpctl} prints, and {@code flush-conntrack} removes
 * exactly what Open vSwitch's would (all, a zone, a full tuple either way, a partial tuple, mark and labels).
 */
@Timeout(60)
class DpctlFlushTest extends DpctlFixture
{
    @Test
    void shouldDumpEveryConnectionAsOpenVswitchDoes()
    {
        trafficMix();

        assertEquals(sorted(MIX_DUMP), sorted(ok("dump-conntrack")));
        assertEquals(List.of(MIX_DUMP.get(1)), ok("dump-conntrack", "zone=5"));
        assertEquals(List.of(MIX_DUMP.get(4)), ok("dump-conntrack", "zone=7"));
        assertEquals(List.of(), ok("dump-conntrack", "zone=99"));
        fails("invalid zone", "dump-conntrack", "zone=65536");
        fails("invalid argument", "dump-conntrack", "zone5");
    }

    @Test
    void shouldShowStatisticsByProtocolAndTcpState()
    {
        trafficMix();

        assertEquals(List.of("Connections Stats:", "    Total: 6", "  TCP: 1", "  UDP: 4", "  ICMP: 1"),
            ok("ct-stats-show"));
        assertEquals(List.of("Connections Stats:", "    Total: 6", "  TCP: 1", "    Conn per TCP states:",
            "\t  [ESTABLISHED]=1", "  UDP: 4", "  ICMP: 1"), ok("ct-stats-show", "verbose"));
        assertEquals(List.of("Connections Stats:", "    Total: 1", "  UDP: 1"), ok("ct-stats-show", "zone=5"));
        assertEquals(List.of("Connections Stats:", "    Total: 0"), ok("ct-stats-show", "zone=99"));
        fails("invalid argument", "ct-stats-show", "brief");
    }

    @Test
    void shouldFlushEverythingOrOneZone()
    {
        trafficMix();

        assertEquals(List.of(), ok("flush-conntrack", "zone=5"));
        assertEquals(mixWithout("zone=5"), sorted(ok("dump-conntrack")));
        assertEquals(List.of("5"), ok("ct-get-nconns"));

        assertEquals(List.of(), ok("flush-conntrack"));
        assertEquals(List.of(), ok("dump-conntrack"));
        assertEquals(List.of("0"), ok("ct-get-nconns"));
        assertEquals(MIX_DUMP.size(), node.counterTotals()[EngineCounter.CONN_FLUSHED.id()]);
        fails("failed to parse zone", "flush-conntrack", "zone=abc");
    }

    @Test
    void shouldFlushOneConnectionByItsTuple()
    {
        trafficMix();

        ok("flush-conntrack", "ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.2,ct_nw_proto=17,ct_tp_src=1000,ct_tp_dst=53");
        assertEquals(mixWithout("sport=1000"), sorted(ok("dump-conntrack")));
        fails(AdminActor.TUPLE_NOT_FOUND, "flush-conntrack",
            "ct_nw_src=10.0.0.1,ct_nw_dst=10.0.0.2,ct_nw_proto=17,ct_tp_src=1000,ct_tp_dst=53");

        // A full tuple is looked up in zone 0 unless a zone is given.
        fails(AdminActor.TUPLE_NOT_FOUND, "flush-conntrack",
            "ct_nw_src=10.0.0.3,ct_nw_dst=10.0.0.4,ct_nw_proto=17,ct_tp_src=2000,ct_tp_dst=53");
        ok("flush-conntrack", "zone=5", "ct_nw_src=10.0.0.3,ct_nw_dst=10.0.0.4,ct_nw_proto=17,ct_tp_src=2000,ct_tp_dst=53");
        assertEquals(mixWithout("sport=1000", "zone=5"), sorted(ok("dump-conntrack")));

        // The reply direction's tuple finds the connection too (Open vSwitch looks the key up both ways).
        ok("flush-conntrack", "ct_nw_src=10.0.0.6,ct_nw_dst=10.0.0.5,ct_nw_proto=6,ct_tp_src=80,ct_tp_dst=40000");
        // ICMP by id, type and code; IPv6 by its addresses.
        ok("flush-conntrack", "ct_nw_src=10.0.0.7,ct_nw_dst=10.0.0.8,ct_nw_proto=1,icmp_type=8,icmp_code=0,icmp_id=77");
        ok("flush-conntrack", "ct_ipv6_src=fd00::1,ct_ipv6_dst=fd00::2,ct_nw_proto=17,ct_tp_src=4000,ct_tp_dst=53");
        assertEquals(List.of(MIX_DUMP.get(4)), ok("dump-conntrack"));
    }

    @Test
    void shouldFlushEveryConnectionMatchingAPartialTuple()
    {
        trafficMix();

        // Partial, with a zone: that zone only.
        ok("flush-conntrack", "zone=7", "ct_nw_proto=17");
        assertEquals(mixWithout("zone=7"), sorted(ok("dump-conntrack")));
        // Partial, no zone: every zone, both address families.
        ok("flush-conntrack", "ct_nw_proto=17");
        assertEquals(mixWithout("udp,"), sorted(ok("dump-conntrack")));
        ok("flush-conntrack", "ct_nw_dst=10.0.0.6");
        assertEquals(mixWithout("udp,", "tcp,"), sorted(ok("dump-conntrack")));
    }

    @Test
    void shouldFlushByReplyTupleMarkAndLabels()
    {
        trafficMix();

        // An empty original tuple and a partial reply tuple.
        ok("flush-conntrack", "", "ct_nw_src=10.0.0.2,ct_nw_proto=17");
        assertEquals(mixWithout("sport=1000"), sorted(ok("dump-conntrack")));

        ok("flush-conntrack", "mark=43");
        ok("flush-conntrack", "labels=0xabd");
        assertEquals(mixWithout("sport=1000"), sorted(ok("dump-conntrack")), "nothing else has that mark or label");
        ok("flush-conntrack", "mark=0x20/0xf0");
        assertEquals(mixWithout("sport=1000", "mark=42"), sorted(ok("dump-conntrack")));

        track(ExecParams.commit(7).label(0xabc, 0, -1L, -1L), udp(9, 3000, 10, 53));
        ok("flush-conntrack", "labels=0xa00/0xf00");
        assertEquals(mixWithout("sport=1000", "mark=42"), sorted(ok("dump-conntrack")));
        fails("failed to parse mark", "flush-conntrack", "mark=0x1ffffffff");
        fails("port is set without protocol", "flush-conntrack", "ct_tp_src=5");
        fails("failed to parse field ct_nw_src", "flush-conntrack", "ct_nw_src=10.0.0");
        fails("invalid conntrack tuple field", "flush-conntrack", "ct_nw_tos=1");
    }
}
