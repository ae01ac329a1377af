package io.ctrack.engine.nat;

import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.testing.PacketBuilder;
import io.ctrack.engine.testing.TestPackets;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Rewrites of random packets, each checked against checksums computed from scratch by the test utilities (not by
 * the engine's checksum code).
 */
class NatRewriterTest
{
    private final NatRewriter rewriter = new NatRewriter();
    private final Random random = new Random(7);

    private String v4()
    {
        return (1 + random.nextInt(223)) + "." + random.nextInt(256) + "." + random.nextInt(256) + "." + (1 + random.nextInt(254));
    }

    private String v6()
    {
        return String.format("2001:db8:%x::%x:%x", random.nextInt(0xFFFF), random.nextInt(0xFFFF), 1 + random.nextInt(0xFFFE));
    }

    private byte[] randomPacket(final boolean ipv6)
    {
        final PacketBuilder b = ipv6 ? TestPackets.ipv6(v6(), v6()) : TestPackets.ipv4(v4(), v4());
        switch (random.nextInt(ipv6 ? 4 : 5))
        {
            case 0:
                b.tcp(1 + random.nextInt(65535), 1 + random.nextInt(65535)).flags(TestPackets.ACK).seq(random.nextInt())
                    .payload(random.nextInt(40));
                break;
            case 1:
                b.udp(1 + random.nextInt(65535), 1 + random.nextInt(65535)).payload(random.nextInt(41));
                break;
            case 2:
                b.sctp(1 + random.nextInt(65535), 1 + random.nextInt(65535)).sctpInit();
                break;
            case 3:
                b.udp(1 + random.nextInt(65535), 1 + random.nextInt(65535)).payload(random.nextInt(7)).udpChecksum(ipv6 ? 1 : 0);
                if (ipv6)
                {
                    // IPv6 UDP needs a checksum: rebuild one without the override.
                    return TestPackets.ipv6(v6(), v6()).udp(1 + random.nextInt(65535), 2).payload(3).build();
                }
                break;
            default:
                b.echo(random.nextBoolean() ? 8 : 0, random.nextInt(65536), random.nextInt(65536)).payload(random.nextInt(30));
                break;
        }
        return b.build();
    }

    @Test
    void shouldKeepEveryChecksumRightOnRandomPackets()
    {
        for (int i = 0; i < 2000; i++)
        {
            final boolean ipv6 = random.nextBoolean();
            final byte[] frame = randomPacket(ipv6);
            FrameFacts.assertChecksums(frame);
            final boolean source = random.nextBoolean();
            final long hi = ipv6 ? random.nextLong() : 0;
            final long lo = ipv6 ? random.nextLong() : random.nextInt() & 0xFFFF_FFFFL;
            final int keySrc = 1 + random.nextInt(65535);
            final int keyDst = 1 + random.nextInt(65535);
            final int op = source ? Verdict.NAT_REWRITE_SOURCE : Verdict.NAT_REWRITE_DESTINATION;
            assertTrue(rewriter.apply(TestPackets.buffer(frame), 0, frame.length, op, keySrc, keyDst, hi, lo));
            FrameFacts.assertChecksums(frame);
            final int proto = FrameFacts.proto(frame);
            if (proto == TestPackets.PROTO_TCP || proto == TestPackets.PROTO_UDP || proto == TestPackets.PROTO_SCTP)
            {
                assertEquals(keyDst, FrameFacts.sport(frame));
                assertEquals(keySrc, FrameFacts.dport(frame));
            }
            else if (proto == TestPackets.PROTO_ICMP)
            {
                assertEquals(keySrc, FrameFacts.icmpId(frame));
            }
            final String expected = ipv6 ? FrameFacts.address(longs(hi, lo), 0, 16)
                : FrameFacts.address(new byte[] { (byte)(lo >>> 24), (byte)(lo >>> 16), (byte)(lo >>> 8), (byte)lo }, 0, 4);
            assertEquals(expected, source ? FrameFacts.src(frame) : FrameFacts.dst(frame));
        }
    }

    @Test
    void shouldRewriteIcmpErrorsInsideAndOutWithValidChecksums()
    {
        for (int i = 0; i < 500; i++)
        {
            final boolean ipv6 = random.nextBoolean();
            final String client = ipv6 ? v6() : v4();
            final String server = ipv6 ? v6() : v4();
            final byte[] original = (ipv6 ? TestPackets.ipv6(client, server) : TestPackets.ipv4(client, server))
                .udp(1000 + random.nextInt(60000), 53).payload(random.nextInt(20)).build();
            final byte[] quoted = Arrays.copyOfRange(original, 14, original.length);
            final byte[] error = (ipv6 ? TestPackets.ipv6(server, client).icmpError(1, 4, quoted)
                : TestPackets.ipv4(server, client).icmpError(3, 3, quoted)).build();
            FrameFacts.assertChecksums(error);
            final long hi = ipv6 ? random.nextLong() : 0;
            final long lo = ipv6 ? random.nextLong() : random.nextInt() & 0xFFFF_FFFFL;
            assertTrue(rewriter.apply(TestPackets.buffer(error), 0, error.length,
                Verdict.NAT_REWRITE_DESTINATION | Verdict.NAT_RELATED, 2222, 53, hi, lo));
            FrameFacts.assertChecksums(error);
            final int inner = FrameFacts.l4(error) + 8;
            if (!ipv6)
            {
                assertEquals(0, TestPackets.internetChecksum(error, inner, 20, 0), "quoted IPv4 header checksum");
                assertEquals(FrameFacts.dst(error), FrameFacts.address(error, inner + 12, 4), "quoted source follows");
                assertEquals(2222, FrameFacts.u16(error, inner + 20));
            }
            else
            {
                assertEquals(FrameFacts.dst(error), FrameFacts.address(error, inner + 8, 16));
                assertEquals(2222, FrameFacts.u16(error, inner + 40));
            }
        }
    }

    @Test
    void shouldLeaveFragmentsAlone()
    {
        final byte[] frame = TestPackets.fragmentsV4(TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload(64), 16).get(0);
        final byte[] copy = frame.clone();
        assertFalse(rewriter.apply(TestPackets.buffer(frame), 0, frame.length, Verdict.NAT_REWRITE_SOURCE, 5, 6, 0, 99));
        assertTrue(Arrays.equals(copy, frame));
    }

    private static byte[] longs(final long hi, final long lo)
    {
        final byte[] b = new byte[16];
        for (int i = 0; i < 8; i++)
        {
            b[i] = (byte)(hi >>> (56 - 8 * i));
            b[8 + i] = (byte)(lo >>> (56 - 8 * i));
        }
        return b;
    }
}
