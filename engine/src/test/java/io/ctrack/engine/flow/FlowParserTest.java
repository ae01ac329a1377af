package io.ctrack.engine.flow;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.testing.RandomPipelines;
import io.ctrack.engine.testing.TestPackets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

class FlowParserTest
{
    private final FlowParser parser = new FlowParser(RandomPipelines.NAT);

    private static PacketFields fields(final byte[] frame, final int inPort)
    {
        final ParsedFrame parsed = new ParsedFrame();
        new FrameParser().parse(TestPackets.buffer(frame), 0, frame.length, parsed);
        return new PacketFields().extract(parsed, inPort);
    }

    @Test
    void shouldMatchByPriorityThenFileOrder()
    {
        final FlowTables t = parser.parse(String.join("\n",
            "priority=10,ip actions=output:1",
            "priority=20,tcp,nw_src=10.0.0.0/8,tp_dst=0x50/0xfff0 actions=output:2",
            "priority=20,tcp actions=output:3",
            "ipv6,ipv6_src=2001:db8::/32 actions=output:4",
            "table=1 priority=5,ct_state=+est-rpl+trk,ct_mark=0x1/0x1,ct_zone=3 actions=NORMAL",
            "table=1 ct_label=0x00000001000000000000000000000001 actions=drop"), 7);
        assertEquals(7, t.generation());
        final byte[] tcp = TestPackets.ipv4("10.1.2.3", "1.1.1.1").tcp(1000, 81).flags(TestPackets.SYN).build();
        assertEquals("output:2", t.lookup(0, fields(tcp, 1)).actions().get(0).toString());
        final byte[] tcpOther = TestPackets.ipv4("11.1.2.3", "1.1.1.1").tcp(1000, 81).flags(TestPackets.SYN).build();
        assertEquals("output:3", t.lookup(0, fields(tcpOther, 1)).actions().get(0).toString());
        final byte[] udp = TestPackets.ipv4("10.1.2.3", "1.1.1.1").udp(1, 2).build();
        assertEquals("output:1", t.lookup(0, fields(udp, 1)).actions().get(0).toString());
        final byte[] v6 = TestPackets.ipv6("2001:db8:5::1", "2001:db8::2").udp(1, 2).build();
        assertEquals("output:4", t.lookup(0, fields(v6, 1)).actions().get(0).toString());

        final PacketFields est = fields(udp, 1);
        est.ctState = CtState.ESTABLISHED | CtState.TRACKED;
        est.ctMark = 3;
        est.ctZone = 3;
        assertEquals("NORMAL", t.lookup(1, est).actions().get(0).toString());
        est.ctState |= CtState.REPLY_DIR;
        assertNull(t.lookup(1, est), "-rpl excludes replies; table miss");
        est.ctLabelHi = 1L << 32;
        est.ctLabelLo = 1;
        assertEquals("drop", t.lookup(1, est).actions().get(0).toString());
    }

    @Test
    void shouldRefuseBadFlowsWithTheirPosition()
    {
        assertEquals("line 1, column 1: missing 'actions='",
            assertThrows(FlowSyntaxException.class, () -> parser.parse("ip output:1", 1)).getMessage());
        assertEquals("line 2, column 5: 'tcp6' conflicts with an earlier protocol match",
            assertThrows(FlowSyntaxException.class, () -> parser.parse("ip actions=drop\ntcp tcp6 actions=drop", 1)).getMessage());
        assertEquals("line 1, column 4: tp_dst: prerequisites not met (needs tcp, udp or sctp)",
            assertThrows(FlowSyntaxException.class, () -> parser.parse("ip tp_dst=80 actions=drop", 1)).getMessage());
        assertEquals("line 1, column 12: drop must be the only action",
            assertThrows(FlowSyntaxException.class, () -> parser.parse("ip actions=drop,output:1", 1)).getMessage());
        assertEquals("line 1, column 12: ct: ct_mark and ct_label can only be set with commit",
            assertThrows(FlowSyntaxException.class,
                () -> parser.parse("ip actions=ct(exec(set_field:1->ct_mark))", 1)).getMessage());
        assertEquals("line 1, column 29: ct(table=1) in table 1 would loop",
            assertThrows(FlowSyntaxException.class, () -> parser.parse("table=1 ip actions=ct(table=1)", 1)).getMessage());
        assertEquals("line 1, column 15: ct: unknown argument 'comit'",
            assertThrows(FlowSyntaxException.class, () -> parser.parse("ip actions=ct(comit)", 1)).getMessage());
        assertEquals("line 1, column 4: unknown field 'nw_tos'",
            assertThrows(FlowSyntaxException.class, () -> parser.parse("ip nw_tos=3 actions=drop", 1)).getMessage());
    }
}
