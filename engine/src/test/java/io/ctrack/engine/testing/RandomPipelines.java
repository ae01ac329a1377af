package io.ctrack.engine.testing;

import io.ctrack.engine.nat.NatSpec;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Random flow tables and packets for pipeline property tests (engine and sharded runtime). */
public final class RandomPipelines
{
    private RandomPipelines()
    {
    }

    public static final java.util.function.Function<String, NatSpec> NAT = text ->
    {
        if (text.equals("nat"))
        {
            return NatSpec.PLAIN;
        }
        // nat(src=A.B.C.D) only, enough for these tests.
        final String a = text.substring(text.indexOf('=') + 1, text.length() - 1);
        final String[] p = a.split("\\.");
        final long v = (Long.parseLong(p[0]) << 24) | (Long.parseLong(p[1]) << 16) | (Long.parseLong(p[2]) << 8) | Long.parseLong(p[3]);
        return NatSpec.of(text.startsWith("nat(src"), false, 0, v, 0, v, 0, 0, 0);
    };

    private static final String[] HOSTS = { "10.0.0.1", "10.0.0.2", "10.0.1.7", "192.168.5.5" };

    /** A random packet: hosts, ports and TCP flags from small sets, so connections meet again. */
    public static byte[] packet(final Random r)
    {
        final String a = HOSTS[r.nextInt(HOSTS.length)];
        final String b = HOSTS[r.nextInt(HOSTS.length)];
        final int sport = 1000 + r.nextInt(3);
        final int dport = 80 + r.nextInt(2);
        return switch (r.nextInt(6))
        {
            case 0 -> TestPackets.ipv4(a, b).tcp(sport, dport).flags(TestPackets.SYN).seq(r.nextInt(3) * 1000).build();
            case 1 -> TestPackets.ipv4(a, b).tcp(sport, dport).flags(TestPackets.SYN | TestPackets.ACK).seq(5000)
                .ack(1 + r.nextInt(3) * 1000).build();
            case 2 -> TestPackets.ipv4(a, b).tcp(sport, dport).flags(TestPackets.ACK).seq(1 + r.nextInt(3) * 1000)
                .ack(5001).payload(r.nextInt(3)).build();
            case 3 -> TestPackets.ipv4(a, b).udp(sport, dport).payload(4).build();
            case 4 -> TestPackets.ipv4(a, b).echo(r.nextBoolean() ? 8 : 0, 7, 1).build();
            default -> TestPackets.arpRequest(a, b);
        };
    }

    /** A random pipeline of three tables. */
    public static String randomTables(final Random r)
    {
        final List<String> lines = new ArrayList<>();
        final String[] states = { "-trk", "+trk", "+new+trk", "+est+trk", "+est+rpl+trk", "+est-rpl+trk", "+inv+trk",
            "+rel+trk", "+new-rpl", "+trk+snat", "+trk+dnat" };
        final String[] t0 = { "ct(table=1)", "ct(table=1)", "ct(zone=3,table=1)", "ct(commit,table=1)", "output:9",
            "drop", "ct(nat,table=1)", "NORMAL" };
        final String[] t1 = { "ct(commit),output:2", "output:1", "output:2", "drop", "ct(commit,exec(set_field:5->ct_mark)),output:3",
            "ct(commit,exec(set_field:0x1/0x1->ct_mark))", "ct(zone=7,table=2)", "ct(commit,nat(src=10.9.9.9)),output:4",
            "ct(commit,zone=3),output:5", "ct(table=2),output:6", "ct(commit)" };
        final String[] t2 = { "ct(commit,zone=7),output:7", "output:8", "drop", "ct(commit),NORMAL" };
        for (int i = 0; i < 2 + r.nextInt(3); i++)
        {
            lines.add("table=0, priority=" + r.nextInt(200) + "," + match(r, states, 0) + " actions=" + t0[r.nextInt(t0.length)]);
        }
        lines.add("table=0, priority=0 actions=ct(table=1)");
        for (int i = 0; i < 3 + r.nextInt(5); i++)
        {
            lines.add("table=1, priority=" + r.nextInt(200) + "," + match(r, states, 1) + " actions=" + t1[r.nextInt(t1.length)]);
        }
        for (int i = 0; i < r.nextInt(3); i++)
        {
            lines.add("table=2, priority=" + r.nextInt(200) + "," + match(r, states, 2) + " actions=" + t2[r.nextInt(t2.length)]);
        }
        return String.join("\n", lines);
    }

    /**
     * A random pipeline whose batches may overlap ({@code OverlappedPipeline.ineligibility} null): table 0 sends
     * through one ct naming table 1 (zone 0 or 3, commit or not) or outputs; table 1's cts are single commits in
     * that zone (marks and labels set or not) or there are none.
     */
    public static String randomOverlappable(final Random r)
    {
        final List<String> lines = new ArrayList<>();
        final boolean zone3 = r.nextInt(3) == 0;
        final String zone = zone3 ? "zone=3," : "";
        final String[] states = { "-trk", "+trk", "+new+trk", "+est+trk", "+est+rpl+trk", "+est-rpl+trk", "+inv+trk",
            "+rel+trk", "+new-rpl" };
        final String[] t0 = { "ct(" + zone + "table=1)", "ct(" + zone + "table=1)", "ct(" + zone + "commit,table=1)",
            "output:9", "drop", "NORMAL", "ct(" + zone + "table=1),output:8" };
        final String[] t1 = { "ct(" + zone + "commit),output:2", "output:1", "output:2", "drop",
            "ct(" + zone + "commit,exec(set_field:5->ct_mark)),output:3", "ct(" + zone + "commit,exec(set_field:0x1/0x1->ct_mark))",
            "ct(" + zone + "commit)", "NORMAL", "ct(" + zone + "commit,force),output:4",
            "ct(" + zone + "commit,exec(set_field:0x2/0x2->ct_label)),output:5" };
        for (int i = 0; i < 1 + r.nextInt(3); i++)
        {
            lines.add("table=0, priority=" + r.nextInt(200) + "," + match(r, states, 0) + " actions=" + t0[r.nextInt(t0.length)]);
        }
        lines.add("table=0, priority=0 actions=ct(" + zone + "table=1)");
        for (int i = 0; i < 2 + r.nextInt(6); i++)
        {
            lines.add("table=1, priority=" + r.nextInt(200) + "," + match(r, states, 1) + " actions=" + t1[r.nextInt(t1.length)]);
        }
        return String.join("\n", lines);
    }

    private static String match(final Random r, final String[] states, final int table)
    {
        final List<String> m = new ArrayList<>();
        switch (r.nextInt(5))
        {
            case 0 -> m.add("ip");
            case 1 -> m.add("tcp");
            case 2 -> m.add("udp");
            case 3 -> m.add("icmp");
            default -> { }
        }
        if (r.nextInt(3) == 0)
        {
            m.add("in_port=" + (1 + r.nextInt(2)));
        }
        if (!m.isEmpty() && !m.get(0).startsWith("in_port") && r.nextInt(3) == 0)
        {
            m.add("nw_src=" + HOSTS[r.nextInt(HOSTS.length)] + (r.nextBoolean() ? "/24" : ""));
        }
        if ((m.contains("tcp") || m.contains("udp")) && r.nextInt(3) == 0)
        {
            m.add("tp_dst=" + (80 + r.nextInt(2)));
        }
        if (table > 0 || r.nextInt(4) == 0)
        {
            m.add("ct_state=" + states[r.nextInt(states.length)]);
        }
        if (table > 0 && r.nextInt(5) == 0)
        {
            m.add("ct_mark=" + r.nextInt(2) + "/0x1");
        }
        if (table > 0 && r.nextInt(6) == 0)
        {
            m.add("ct_zone=" + (r.nextBoolean() ? 0 : 3));
        }
        return m.isEmpty() ? "ip" : String.join(",", m);
    }

    public static final String FIREWALL = String.join("\n",
        "table=0, priority=100,ct_state=-trk,ip actions=ct(table=1)",
        "table=0, priority=10,arp actions=NORMAL",
        "table=0, priority=1 actions=drop",
        "table=1, ct_state=+new+trk,ip,in_port=1 actions=ct(commit),output:2",
        "table=1, ct_state=+new+trk,ip,in_port=2 actions=drop",
        "table=1, ct_state=+est+trk,ip,in_port=1 actions=output:2",
        "table=1, ct_state=+est+trk,ip,in_port=2 actions=output:1");

}
