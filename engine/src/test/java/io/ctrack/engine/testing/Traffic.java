package io.ctrack.engine.testing;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.Verdict;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static io.ctrack.engine.testing.TestPackets.ACK;
import static io.ctrack.engine.testing.TestPackets.FIN;
import static io.ctrack.engine.testing.TestPackets.PSH;
import static io.ctrack.engine.testing.TestPackets.SYN;

/**
 * Generated traffic for the tests of the engine's users (transport, shards): whole TCP, UDP and ICMP
 * conversations (IPv4 and IPv6), ICMP errors quoting earlier packets, and a few invalid packets, interleaved at
 * random while every flow keeps its own order. Seeded: the same seed gives the same frames.
 */
public final class Traffic
{
    private Traffic()
    {
    }

    /** {@code flows} conversations interleaved; flow {@code i} uses addresses derived from {@code base + i}. */
    public static List<byte[]> mixed(final Random random, final int flows, final int base)
    {
        final List<List<byte[]>> conversations = new ArrayList<>();
        for (int i = 0; i < flows; i++)
        {
            conversations.add(conversation(random, base + i));
        }
        return interleave(random, conversations);
    }

    public static List<byte[]> interleave(final Random random, final List<List<byte[]>> conversations)
    {
        final List<byte[]> frames = new ArrayList<>();
        final List<List<byte[]>> pending = new ArrayList<>();
        final List<Integer> cursors = new ArrayList<>();
        for (final List<byte[]> c : conversations)
        {
            if (!c.isEmpty())
            {
                pending.add(c);
                cursors.add(0);
            }
        }
        while (!pending.isEmpty())
        {
            final int k = random.nextInt(pending.size());
            final List<byte[]> c = pending.get(k);
            final int at = cursors.get(k);
            frames.add(c.get(at));
            if (at + 1 == c.size())
            {
                pending.remove(k);
                cursors.remove(k);
            }
            else
            {
                cursors.set(k, at + 1);
            }
        }
        return frames;
    }

    public static String v4Client(final int n)
    {
        return "10." + ((n >>> 8) & 0xFF) + "." + (n & 0xFF) + ".1";
    }

    public static String v4Server(final int n)
    {
        return "172.16." + ((n >>> 8) & 0xFF) + "." + (n & 0xFF);
    }

    public static String v6Client(final int n)
    {
        return "fd00:1::" + Integer.toHexString(n & 0xFFFF);
    }

    public static String v6Server(final int n)
    {
        return "fd00:2::" + Integer.toHexString(n & 0xFFFF);
    }

    /** One conversation of a kind chosen by {@code random}. */
    public static List<byte[]> conversation(final Random random, final int n)
    {
        final int sport = 1024 + random.nextInt(60_000);
        final int kind = random.nextInt(10);
        switch (kind)
        {
            case 0:
            case 1:
            case 2:
                return tcp(TestPackets.ipv4(v4Client(n), v4Server(n)), TestPackets.ipv4(v4Server(n), v4Client(n)),
                    sport, 80, random.nextInt(8) + 1, random);
            case 3:
                return tcp(TestPackets.ipv6(v6Client(n), v6Server(n)), TestPackets.ipv6(v6Server(n), v6Client(n)),
                    sport, 443, random.nextInt(8) + 1, random);
            case 4:
            case 5:
                return udp(v4Client(n), v4Server(n), sport, 53, random.nextInt(4) + 1, false);
            case 6:
                return udp(v4Client(n), v4Server(n), sport, 5353, 2, true);
            case 7:
                return icmpEcho(TestPackets.ipv4(v4Client(n), v4Server(n)), TestPackets.ipv4(v4Server(n), v4Client(n)),
                    8, 0, n & 0xFFFF, random.nextInt(3) + 1);
            case 8:
                return icmpEcho(TestPackets.ipv6(v6Client(n), v6Server(n)), TestPackets.ipv6(v6Server(n), v6Client(n)),
                    128, 129, n & 0xFFFF, random.nextInt(3) + 1);
            default:
                return invalid(random, n, sport);
        }
    }

    /** A TCP conversation cut after {@code steps} of: SYN, SYN/ACK, ACK, data, ACK, FIN, FIN/ACK, ACK. */
    public static List<byte[]> tcp(final PacketBuilder client, final PacketBuilder server, final int sport,
        final int dport, final int steps, final Random random)
    {
        final long c = random.nextInt() & 0xFFFF_FFFFL;
        final long s = random.nextInt() & 0xFFFF_FFFFL;
        final List<byte[]> out = new ArrayList<>();
        client.tcp(sport, dport);
        server.tcp(dport, sport);
        out.add(client.flags(SYN).seq(c).ack(0).window(64240).wscale(7).build());
        out.add(server.flags(SYN | ACK).seq(s).ack(c + 1).window(65160).wscale(7).build());
        client.wscale(-1);
        server.wscale(-1);
        out.add(client.flags(ACK).seq(c + 1).ack(s + 1).window(502).build());
        out.add(client.flags(PSH | ACK).seq(c + 1).ack(s + 1).payload(20).build());
        out.add(server.flags(ACK).seq(s + 1).ack(c + 21).window(509).build());
        client.payload(0);
        out.add(client.flags(FIN | ACK).seq(c + 21).ack(s + 1).build());
        out.add(server.flags(FIN | ACK).seq(s + 1).ack(c + 22).build());
        out.add(client.flags(ACK).seq(c + 22).ack(s + 2).build());
        return out.subList(0, Math.min(steps, out.size()));
    }

    public static List<byte[]> udp(final String client, final String server, final int sport, final int dport,
        final int exchanges, final boolean withUnreachable)
    {
        final List<byte[]> out = new ArrayList<>();
        final PacketBuilder request = TestPackets.ipv4(client, server).udp(sport, dport).payload(12);
        final PacketBuilder response = TestPackets.ipv4(server, client).udp(dport, sport).payload(30);
        for (int i = 0; i < exchanges; i++)
        {
            out.add(request.build());
            if (i % 2 == 0)
            {
                out.add(response.build());
            }
        }
        if (withUnreachable)
        {
            // A related ICMP error quoting the client's datagram.
            out.add(TestPackets.ipv4(server, client).icmpError(3, 3, request.datagram()).build());
        }
        return out;
    }

    public static List<byte[]> icmpEcho(final PacketBuilder client, final PacketBuilder server, final int requestType,
        final int replyType, final int id, final int pings)
    {
        final List<byte[]> out = new ArrayList<>();
        for (int i = 0; i < pings; i++)
        {
            out.add(client.echo(requestType, id, i).payload(16).build());
            out.add(server.echo(replyType, id, i).payload(16).build());
        }
        return out;
    }

    public static List<byte[]> invalid(final Random random, final int n, final int sport)
    {
        switch (random.nextInt(4))
        {
            case 0:
                return List.of(
                    TestPackets.ipv4(v4Client(n), v4Server(n)).udp(sport, 53).payload(8).badL4Checksum().build());
            case 1:
                return List.of(TestPackets.ipv4(v4Client(n), v4Server(n)).tcp(sport, 80).flags(SYN | FIN).build());
            case 2:
                return List.of(TestPackets.arpRequest(v4Client(n), v4Server(n)));
            default:
                // An ICMP error quoting a connection nobody has seen.
                return List.of(TestPackets.ipv4(v4Server(n), v4Client(n)).icmpError(3, 1,
                    TestPackets.ipv4(v4Client(n), v4Server(n)).tcp(sport, 9).flags(SYN).datagram()).build());
        }
    }

    /** A buffer of exactly the frame's bytes. */
    public static DirectBuffer buffer(final byte[] frame)
    {
        return new UnsafeBuffer(frame);
    }

    /** Everything of a verdict that does not depend on which table answered (connection ids do). */
    public static String describe(final Verdict v)
    {
        return CtState.format(v.ctState()) + " flags=" + v.flags() + " reason=" + v.reason() + " mark=" + v.mark()
            + " label=" + Long.toHexString(v.labelHi()) + ":" + Long.toHexString(v.labelLo())
            + (v.connId() != 0 ? " conn" : " noconn");
    }

    /** A byte no verdict field holds by chance: verdict buffers are filled with it to catch unwritten verdicts. */
    public static final byte POISON = (byte)0xA5;

    /** The frames as one batch. */
    public static FrameBatch batchOf(final List<byte[]> frames)
    {
        final FrameBatch batch = new FrameBatch(frames.size());
        for (final byte[] frame : frames)
        {
            batch.add(TestPackets.buffer(frame), 0, frame.length);
        }
        return batch;
    }

    /** Room for {@code count} plain verdicts, filled with {@link #POISON}. */
    public static UnsafeBuffer poisoned(final int count)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[Math.max(1, count) * Verdict.LENGTH]);
        buffer.setMemory(0, buffer.capacity(), POISON);
        return buffer;
    }

    /** Plain verdict {@code index} of {@code buffer}. */
    public static Verdict verdict(final UnsafeBuffer buffer, final int index)
    {
        return new Verdict().wrap(buffer, index * Verdict.LENGTH);
    }
}
