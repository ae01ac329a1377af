package io.ctrack.app;

import io.ctrack.engine.packet.FrameWriter;
import io.ctrack.engine.packet.Protocols;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.Arrays;

/**
 * A recorded sequence of synthetic frames: a realistic mix for the demo (TCP connections opened, used and closed,
 * UDP request/response, ping, an ICMP error, a fragmented datagram, IPv6, and packets a tracker must refuse),
 * each frame labelled with what it is.
 */
final class SyntheticTraffic
{
    private static final int CLIENT_NET = FrameWriter.ipv4Address(10, 0, 0, 0);
    private static final int SERVER = FrameWriter.ipv4Address(192, 168, 1, 1);
    private static final int DNS = FrameWriter.ipv4Address(192, 168, 1, 53);
    private static final int ROUTER = FrameWriter.ipv4Address(10, 0, 0, 254);
    private static final long V6_NET = 0xFD00_0000_0000_0001L;

    private final UnsafeBuffer bytes;
    private final UnsafeBuffer scratch = new UnsafeBuffer(new byte[4096]);
    private int[] offsets = new int[1024];
    private int[] lengths = new int[1024];
    private String[] labels = new String[1024];
    private int count;
    private int end;

    SyntheticTraffic(final int capacityBytes)
    {
        bytes = new UnsafeBuffer(new byte[capacityBytes]);
    }

    /** The demo's traffic: {@code tcpConnections} TCP connections plus a fixed mix of everything else. */
    static SyntheticTraffic demo(final int tcpConnections)
    {
        final SyntheticTraffic t = new SyntheticTraffic(Math.max(1 << 20, tcpConnections * 12 * 160));
        for (int i = 0; i < tcpConnections; i++)
        {
            t.tcpConnection(CLIENT_NET | (1 + i % 250), 40_000 + i, SERVER, 80, i % 4 != 3, i % 10 == 9);
        }
        for (int i = 0; i < 4; i++)
        {
            final int client = CLIENT_NET | (10 + i);
            final int port = 53_000 + i;
            t.add("udp dns query", w -> FrameWriter.udp4(w.b, w.at, client, port, DNS, 53, 32, true));
            t.add("udp dns answer", w -> FrameWriter.udp4(w.b, w.at, DNS, 53, client, port, 96, true));
        }
        t.add("udp one-way (no answer)", w -> FrameWriter.udp4(w.b, w.at, CLIENT_NET | 20, 5_000, SERVER, 514, 80, false));
        final int pingClient = CLIENT_NET | 30;
        for (int seq = 1; seq <= 2; seq++)
        {
            final int s = seq;
            t.add("icmp echo request", w -> FrameWriter.icmp4Echo(w.b, w.at, pingClient, SERVER, false, 77, s));
            t.add("icmp echo reply", w -> FrameWriter.icmp4Echo(w.b, w.at, SERVER, pingClient, true, 77, s));
        }
        // A UDP probe to a closed port and the ICMP port-unreachable that answers it: related to the probe's flow.
        final int probe = t.add("udp probe to a closed port",
            w -> FrameWriter.udp4(w.b, w.at, CLIENT_NET | 31, 33_434, SERVER, 7, 12, true));
        t.add("icmp port unreachable (related)", w -> FrameWriter.icmp4Error(w.b, w.at, SERVER, CLIENT_NET | 31,
            Protocols.ICMP4_DST_UNREACH, 3, t.bytes, t.offsets[probe], 8 + 12));
        // A 2,400-byte UDP datagram in three fragments, the last one first: tracked once reassembled.
        final int frag = CLIENT_NET | 40;
        t.add("udp fragment 3/3", w -> FrameWriter.udp4Fragment(w.b, w.at, frag, 6_000, SERVER, 6_001, 2_400, 4242,
            2_400, 1_400, true, t.scratch));
        t.add("udp fragment 1/3", w -> FrameWriter.udp4Fragment(w.b, w.at, frag, 6_000, SERVER, 6_001, 2_400, 4242,
            0, 1_200, false, t.scratch));
        t.add("udp fragment 2/3", w -> FrameWriter.udp4Fragment(w.b, w.at, frag, 6_000, SERVER, 6_001, 2_400, 4242,
            1_200, 1_200, false, t.scratch));
        t.tcp6Connection();
        // What a tracker must refuse.
        t.add("tcp SYN+FIN (invalid flags)", w -> FrameWriter.tcp4(w.b, w.at, CLIENT_NET | 50, 1_234, SERVER, 22, 1, 0,
            Protocols.TCP_SYN | Protocols.TCP_FIN, 1024, 0));
        t.add("tcp SYN-ACK with no SYN (invalid)", w -> FrameWriter.tcp4(w.b, w.at, SERVER, 443, CLIENT_NET | 51,
            2_345, 1, 1, Protocols.TCP_SYN | Protocols.TCP_ACK, 1024, 0));
        final int corrupt = t.add("tcp SYN with a corrupt checksum", w -> FrameWriter.tcp4(w.b, w.at, CLIENT_NET | 52,
            3_456, SERVER, 22, 1, 0, Protocols.TCP_SYN, 1024, 0));
        t.bytes.putByte(t.offsets[corrupt] + t.lengths[corrupt] - 4, (byte)0x5A);
        t.add("icmp error quoting no known connection", w -> FrameWriter.icmp4Error(w.b, w.at, ROUTER, CLIENT_NET | 52,
            Protocols.ICMP4_TIME_EXCEEDED, 0, t.bytes, t.offsets[corrupt], 8));
        t.add("arp request (not IP)", w -> FrameWriter.arp(w.b, w.at, CLIENT_NET | 1, SERVER));
        return t;
    }

    private void tcpConnection(final int client, final int clientPort, final int server, final int serverPort,
        final boolean close, final boolean outOfWindow)
    {
        final int c = 1_000_000 + clientPort * 7;
        final int s = 5_000_000 + clientPort * 11;
        add("tcp SYN", w -> FrameWriter.tcp4(w.b, w.at, client, clientPort, server, serverPort, c, 0,
            Protocols.TCP_SYN, 64_240, 0));
        add("tcp SYN-ACK", w -> FrameWriter.tcp4(w.b, w.at, server, serverPort, client, clientPort, s, c + 1,
            Protocols.TCP_SYN | Protocols.TCP_ACK, 65_160, 0));
        add("tcp ACK", w -> FrameWriter.tcp4(w.b, w.at, client, clientPort, server, serverPort, c + 1, s + 1,
            Protocols.TCP_ACK, 502, 0));
        add("tcp request", w -> FrameWriter.tcp4(w.b, w.at, client, clientPort, server, serverPort, c + 1, s + 1,
            Protocols.TCP_ACK | Protocols.TCP_PSH, 502, 100));
        add("tcp response", w -> FrameWriter.tcp4(w.b, w.at, server, serverPort, client, clientPort, s + 1, c + 101,
            Protocols.TCP_ACK | Protocols.TCP_PSH, 509, 1_000));
        if (outOfWindow)
        {
            add("tcp data far outside the window (invalid)", w -> FrameWriter.tcp4(w.b, w.at, client, clientPort,
                server, serverPort, c + 50_000_000, s + 1_001, Protocols.TCP_ACK, 502, 10));
        }
        if (close)
        {
            add("tcp FIN", w -> FrameWriter.tcp4(w.b, w.at, client, clientPort, server, serverPort, c + 101, s + 1_001,
                Protocols.TCP_ACK | Protocols.TCP_FIN, 502, 0));
            add("tcp FIN", w -> FrameWriter.tcp4(w.b, w.at, server, serverPort, client, clientPort, s + 1_001, c + 102,
                Protocols.TCP_ACK | Protocols.TCP_FIN, 509, 0));
            add("tcp last ACK", w -> FrameWriter.tcp4(w.b, w.at, client, clientPort, server, serverPort, c + 102,
                s + 1_002, Protocols.TCP_ACK, 502, 0));
        }
    }

    private void tcp6Connection()
    {
        final long client = V6_NET | 0x10;
        final long server = V6_NET | 0x20;
        add("tcp6 SYN", w -> FrameWriter.tcp6(w.b, w.at, 0xFD00_0000_0000_0000L, client, 41_000,
            0xFD00_0000_0000_0000L, server, 443, 100, 0, Protocols.TCP_SYN, 64_800, 0));
        add("tcp6 SYN-ACK", w -> FrameWriter.tcp6(w.b, w.at, 0xFD00_0000_0000_0000L, server, 443,
            0xFD00_0000_0000_0000L, client, 41_000, 900, 101, Protocols.TCP_SYN | Protocols.TCP_ACK, 64_800, 0));
        add("tcp6 ACK", w -> FrameWriter.tcp6(w.b, w.at, 0xFD00_0000_0000_0000L, client, 41_000,
            0xFD00_0000_0000_0000L, server, 443, 101, 901, Protocols.TCP_ACK, 64_800, 0));
    }

    /** Writes one frame with {@code writer} and records it under {@code label}; returns its index. */
    int add(final String label, final Writer writer)
    {
        if (count == offsets.length)
        {
            offsets = Arrays.copyOf(offsets, count * 2);
            lengths = Arrays.copyOf(lengths, count * 2);
            labels = Arrays.copyOf(labels, count * 2);
        }
        final Target target = new Target(bytes, end);
        final int length = writer.write(target);
        offsets[count] = end;
        lengths[count] = length;
        labels[count] = label;
        end += (length + 63) & ~63;
        return count++;
    }

    int count()
    {
        return count;
    }

    UnsafeBuffer buffer()
    {
        return bytes;
    }

    int offset(final int i)
    {
        return offsets[i];
    }

    int length(final int i)
    {
        return lengths[i];
    }

    String label(final int i)
    {
        return labels[i];
    }

    /** Where a frame is to be written. */
    record Target(UnsafeBuffer b, int at)
    {
    }

    @FunctionalInterface
    interface Writer
    {
        int write(Target target);
    }
}
