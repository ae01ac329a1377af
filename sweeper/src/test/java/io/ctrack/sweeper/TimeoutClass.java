package io.ctrack.sweeper;

import io.ctrack.engine.testing.TestPackets;
import io.ctrack.engine.testing.Traffic;
import io.ctrack.engine.timeout.TimeoutAttr;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * One conversation per timeout attribute: the packets that leave a connection in the state whose timeout is that
 * attribute (Open vSwitch's {@code tcp_conn_update} / {@code other_conn_update} / {@code icmp_conn_update} with
 * the {@code conntrack-tp.c} mapping). Flow {@code n} uses addresses derived from {@code n}, so conversations of
 * different flows never meet.
 */
enum TimeoutClass
{
    UDP_FIRST(TimeoutAttr.UDP_FIRST),
    UDP_SINGLE(TimeoutAttr.UDP_SINGLE),
    UDP_MULTIPLE(TimeoutAttr.UDP_MULTIPLE),
    ICMP_FIRST(TimeoutAttr.ICMP_FIRST),
    ICMP_REPLY(TimeoutAttr.ICMP_REPLY),
    TCP_SYN_SENT(TimeoutAttr.TCP_SYN_SENT),
    TCP_SYN_RECV(TimeoutAttr.TCP_SYN_RECV),
    TCP_ESTABLISHED(TimeoutAttr.TCP_ESTABLISHED),
    TCP_FIN_WAIT(TimeoutAttr.TCP_FIN_WAIT),
    TCP_TIME_WAIT(TimeoutAttr.TCP_TIME_WAIT),
    TCP_CLOSE(TimeoutAttr.TCP_CLOSE);

    private final TimeoutAttr attr;

    TimeoutClass(final TimeoutAttr attr)
    {
        this.attr = attr;
    }

    TimeoutAttr attr()
    {
        return attr;
    }

    static String client(final int n)
    {
        return "10." + ((n >>> 8) & 0xFF) + "." + (n & 0xFF) + ".1";
    }

    static String server(final int n)
    {
        return "172.16." + ((n >>> 8) & 0xFF) + "." + (n & 0xFF);
    }

    /** The conversation of flow {@code n} that ends in this class. */
    List<byte[]> frames(final int n)
    {
        final String c = client(n);
        final String s = server(n);
        final int sport = 20_000 + (n & 0x7FFF);
        return switch (this)
        {
            case UDP_FIRST -> udp(c, s, sport, 1, false);
            case UDP_SINGLE -> udp(c, s, sport, 2, false);
            case UDP_MULTIPLE -> udp(c, s, sport, 1, true);
            case ICMP_FIRST -> icmp(c, s, n, false);
            case ICMP_REPLY -> icmp(c, s, n, true);
            case TCP_SYN_SENT -> tcp(c, s, sport, 1);
            case TCP_SYN_RECV -> tcp(c, s, sport, 2);
            case TCP_ESTABLISHED -> tcp(c, s, sport, 5);
            case TCP_FIN_WAIT -> tcp(c, s, sport, 6);
            case TCP_TIME_WAIT -> tcp(c, s, sport, 7);
            case TCP_CLOSE -> tcp(c, s, sport, 8);
        };
    }

    static List<byte[]> udp(final String client, final String server, final int sport, final int requests,
        final boolean reply)
    {
        final List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < requests; i++)
        {
            out.add(TestPackets.ipv4(client, server).udp(sport, 53).payload(12).build());
        }
        if (reply)
        {
            out.add(TestPackets.ipv4(server, client).udp(53, sport).payload(30).build());
        }
        return out;
    }

    private static List<byte[]> icmp(final String client, final String server, final int n, final boolean reply)
    {
        final List<byte[]> out = new ArrayList<>();
        out.add(TestPackets.ipv4(client, server).echo(8, n & 0xFFFF, 1).payload(16).build());
        if (reply)
        {
            out.add(TestPackets.ipv4(server, client).echo(0, n & 0xFFFF, 1).payload(16).build());
        }
        return out;
    }

    /** The first {@code steps} of a TCP conversation ({@link Traffic#tcp}), its sequence numbers seeded by the port. */
    private static List<byte[]> tcp(final String clientIp, final String serverIp, final int sport, final int steps)
    {
        return Traffic.tcp(TestPackets.ipv4(clientIp, serverIp), TestPackets.ipv4(serverIp, clientIp), sport, 80, steps,
            new Random(sport));
    }
}
