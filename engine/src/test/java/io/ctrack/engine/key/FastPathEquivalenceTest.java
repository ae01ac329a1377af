package io.ctrack.engine.key;

import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.testing.FrameMutations;
import io.ctrack.engine.testing.TestPackets;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static io.ctrack.engine.testing.TestPackets.ACK;
import static io.ctrack.engine.testing.TestPackets.FIN;
import static io.ctrack.engine.testing.TestPackets.SYN;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Property: {@link ConnKeyExtractor#extractIpv4Fast} agrees with the general path (the frame parser, then
 * {@link ConnKeyExtractor#extract}) on every frame it takes, and leaves the request untouched on every frame it
 * declines. Frames are IPv4 UDP and TCP frames of many shapes, mutated (bytes, lengths, cuts) and often given
 * right checksums again, at random offsets in buffers of exactly their size. Seeds are fixed.
 */
class FastPathEquivalenceTest
{
    private static final List<byte[]> SEEDS = List.of(
        TestPackets.ipv4("10.1.1.1", "10.1.1.2").udp(1, 2).udpChecksum(0).build(),
        TestPackets.ipv4("10.1.1.1", "10.1.1.2").udp(1000, 53).payload(20).build(),
        TestPackets.ipv4("192.168.7.1", "172.16.0.9").udp(65535, 4789).payload(3).pad(12).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").tcp(1000, 80).flags(SYN).mss(1460).wscale(7).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").tcp(40000, 443).flags(SYN | ACK).wscale(20).build(),
        TestPackets.ipv4("10.0.0.2", "10.0.0.1").tcp(80, 1000).flags(ACK).payload(40).build(),
        TestPackets.ipv4("10.0.0.2", "10.0.0.1").tcp(80, 1000).flags(FIN | ACK).seq(0xFFFF_FFF0L).ack(7).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).payload(20).dontFragment().build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).payload(20).moreFragments().build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).ipOptions(new byte[] { 1, 1, 1, 0 }).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).vlan(7).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").echo(8, 1, 1).payload(8).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").sctp(1, 2).sctpInit().build());

    @Test
    void shouldAgreeWithTheGeneralPathOnEveryFrameItTakes()
    {
        final Random random = new Random(20261122);
        final ConnKeyExtractor fast = new ConnKeyExtractor();
        final ConnKeyExtractor general = new ConnKeyExtractor();
        final FrameParser parser = new FrameParser();
        final ParsedFrame parsed = new ParsedFrame();
        final CtRequest viaFast = new CtRequest();
        final CtRequest viaGeneral = new CtRequest();
        final UnsafeBuffer garbage = new UnsafeBuffer(new byte[CtRequest.LENGTH]);
        final UnsafeBuffer a = new UnsafeBuffer(new byte[CtRequest.LENGTH]);
        final UnsafeBuffer b = new UnsafeBuffer(new byte[CtRequest.LENGTH]);
        int taken = 0;
        int declined = 0;
        int declinedValid = 0;
        for (int i = 0; i < 60_000; i++)
        {
            final byte[] seed = SEEDS.get(random.nextInt(SEEDS.size()));
            final byte[] frame = random.nextInt(4) == 0 ? seed.clone() : FrameMutations.mutate(seed, random);
            if (random.nextInt(4) != 0)
            {
                FrameMutations.fixChecksums(frame);
            }
            final int offset = random.nextInt(3) == 0 ? random.nextInt(64) : 0;
            final byte[] bytes = new byte[offset + frame.length];
            System.arraycopy(frame, 0, bytes, offset, frame.length);
            final UnsafeBuffer buffer = new UnsafeBuffer(bytes);
            final int zone = random.nextInt(65536);
            // Both requests start from the same leftovers of an earlier packet, as on a packet thread.
            random.nextBytes(garbage.byteArray());
            viaFast.readFrom(garbage, 0);
            viaGeneral.readFrom(garbage, 0);

            final int fastResult = fast.extractIpv4Fast(buffer, offset, frame.length, zone, viaFast);
            parser.parse(buffer, offset, frame.length, parsed);
            final int generalResult = general.extract(parsed, zone, true, viaGeneral);
            final String what = "frame " + i + " at offset " + offset + ": " + HexFormat.of().formatHex(frame);
            viaFast.writeTo(a, 0);
            if (fastResult == ConnKeyExtractor.OK)
            {
                taken++;
                assertEquals(ConnKeyExtractor.OK, generalResult, what);
                viaGeneral.writeTo(b, 0);
                assertArrayEquals(b.byteArray(), a.byteArray(), () -> what + "\n general " + HexFormat.of().formatHex(b.byteArray()) + "\n fast    " + HexFormat.of().formatHex(a.byteArray()));
            }
            else
            {
                declined++;
                assertEquals(ConnKeyExtractor.NOT_FAST, fastResult, what);
                assertArrayEquals(garbage.byteArray(), a.byteArray(), "declined, yet wrote the request: " + what);
                if (generalResult == ConnKeyExtractor.OK)
                {
                    declinedValid++;
                }
            }
        }
        // The property means something only if both sides of it were exercised often.
        assertTrue(taken > 15_000, "frames taken: " + taken);
        assertTrue(declined > 15_000, "frames declined: " + declined);
        assertTrue(declinedValid > 2_000, "valid frames declined (VLAN, options, SCTP, ICMP): " + declinedValid);
    }
}
