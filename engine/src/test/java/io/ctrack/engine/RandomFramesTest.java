package io.ctrack.engine;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.key.ConnKeyExtractor;
import io.ctrack.engine.key.CtRequest;
import io.ctrack.engine.key.SymmetricHash;
import io.ctrack.engine.packet.FrameParser;
import io.ctrack.engine.packet.ParsedFrame;
import io.ctrack.engine.status.EngineCounter;
import io.ctrack.engine.testing.FrameMutations;
import io.ctrack.engine.testing.TestPackets;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;
import java.util.List;
import java.util.Random;

import static io.ctrack.engine.testing.TestPackets.ACK;
import static io.ctrack.engine.testing.TestPackets.SYN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Property: no frame, however malformed, makes the packet path throw. Frames are random bytes, and mutations
 * (byte changes, cuts, random lengths) of valid frames of every kind, each in a buffer of exactly its own size so
 * that a read past the frame's end fails Agrona's bounds check. Seeds are fixed: a failure names the seed and the
 * frame, and reproduces.
 */
class RandomFramesTest
{
    private static final List<byte[]> SEEDS = List.of(
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").tcp(1000, 80).flags(SYN).mss(1460).wscale(7).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").tcp(1000, 80).flags(ACK).payload(40).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).payload(20).vlan(7).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).payload(20).moreFragments().build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).payload(20).fragmentOffset(1480).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").echo(8, 1, 1).payload(8).build(),
        TestPackets.ipv4("10.0.0.9", "10.0.0.1").icmpError(3, 3,
            TestPackets.ipv4("10.0.0.1", "10.0.0.2").tcp(1000, 80).flags(SYN).datagram()).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").sctp(1, 2).sctpInit().build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").ipOptions(new byte[] { (byte)0x94, 4, 0, 0 }).rawL4(47, new byte[8]).build(),
        TestPackets.ipv6("fd00::1", "fd00::2").tcp(1000, 80).flags(SYN).wscale(3).build(),
        TestPackets.ipv6("fd00::1", "fd00::2").udp(1000, 53).hopByHop().routing().destinationOptions()
            .authentication().payload(9).build(),
        TestPackets.ipv6("fd00::1", "fd00::2").udp(1000, 53).fragmentHeader(0, true, 3).payload(30).build(),
        TestPackets.ipv6("fd00::1", "fd00::2").udp(1000, 53).fragmentHeader(1280, false, 3).payload(30).build(),
        TestPackets.ipv6("fd00::9", "fd00::1").icmpError(1, 4,
            TestPackets.ipv6("fd00::1", "fd00::2").udp(1000, 53).hopByHop().datagram()).build(),
        TestPackets.ipv6("fd00::1", "fd00::2").echo(128, 1, 1).build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).qinq(1, 2).llcSnap().build(),
        TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1000, 53).mpls(16).build());

    private final FrameParser parser = new FrameParser();
    private final ParsedFrame parsed = new ParsedFrame();
    private final ConnKeyExtractor extractor = new ConnKeyExtractor();
    private final CtRequest request = new CtRequest();

    @Test
    void shouldNeverThrowOnRandomBytes()
    {
        final Random random = new Random(0xC0FFEE);
        for (int i = 0; i < 20_000; i++)
        {
            final byte[] frame = new byte[random.nextInt(200)];
            random.nextBytes(frame);
            if (frame.length >= 14 && random.nextBoolean())
            {
                // Make most of them IP, or the parser would stop at the ethertype.
                final int type = random.nextBoolean() ? 0x0800 : 0x86DD;
                frame[12] = (byte)(type >>> 8);
                frame[13] = (byte)type;
                if (frame.length > 14)
                {
                    frame[14] = (byte)(type == 0x0800 ? 0x40 | (5 + random.nextInt(3)) : 0x60);
                }
            }
            parseAndExtract(frame, "random frame " + i);
        }
    }

    @Test
    void shouldNeverThrowOnMutatedValidFrames()
    {
        final Random random = new Random(42);
        for (int i = 0; i < 40_000; i++)
        {
            final byte[] seed = SEEDS.get(random.nextInt(SEEDS.size()));
            final byte[] frame = FrameMutations.mutate(seed, random);
            if (random.nextBoolean())
            {
                FrameMutations.fixChecksums(frame);
            }
            parseAndExtract(frame, "mutation " + i);
        }
    }

    @Test
    void shouldAnswerEveryMutatedFrameThroughTheWholeEngine()
    {
        final Random random = new Random(7);
        final Conntrack conntrack = new Conntrack();
        final ExecParams params = ExecParams.commit(3);
        final FrameBatch batch = new FrameBatch(32);
        final UnsafeBuffer verdicts = new UnsafeBuffer(new byte[32 * Verdict.LENGTH]);
        final Verdict verdict = new Verdict();
        long nowMs = 1_000_000;
        for (int round = 0; round < 1_000; round++)
        {
            batch.clear();
            final byte[][] frames = new byte[32][];
            for (int i = 0; i < 32; i++)
            {
                frames[i] = FrameMutations.mutate(SEEDS.get(random.nextInt(SEEDS.size())), random);
                if (random.nextBoolean())
                {
                    FrameMutations.fixChecksums(frames[i]);
                }
                batch.add(TestPackets.buffer(frames[i]), 0, frames[i].length);
            }
            verdicts.setMemory(0, verdicts.capacity(), (byte)0xEE);
            try
            {
                conntrack.execute(batch, params, nowMs, verdicts, 0);
            }
            catch (final RuntimeException ex)
            {
                throw new AssertionError("batch " + round + " threw; frames: " + hex(frames), ex);
            }
            for (int i = 0; i < 32; i++)
            {
                verdict.wrap(verdicts, i * Verdict.LENGTH);
                final boolean held = (verdict.flags() & Verdict.FLAG_HELD) != 0;
                final boolean tracked = (verdict.ctState() & CtState.TRACKED) != 0;
                assertTrue(held || tracked, "frame " + i + " of batch " + round + " got no verdict: "
                    + HexFormat.of().formatHex(frames[i]));
            }
            nowMs += 700;
        }
    }

    private void parseAndExtract(final byte[] frame, final String what)
    {
        try
        {
            parser.parse(TestPackets.buffer(frame), 0, frame.length, parsed);
            final int result = extractor.extract(parsed, 1, true, request);
            if (result == ConnKeyExtractor.OK)
            {
                assertEquals(SymmetricHash.of(request), request.hash(), what);
            }
            else
            {
                assertTrue(result >= 0 && result < EngineCounter.count(), what + ": reason " + result);
            }
        }
        catch (final RuntimeException ex)
        {
            fail(what + " threw " + ex + " on " + HexFormat.of().formatHex(frame), ex);
        }
    }

    private static String hex(final byte[][] frames)
    {
        final StringBuilder sb = new StringBuilder();
        for (final byte[] f : frames)
        {
            sb.append('\n').append(HexFormat.of().formatHex(f));
        }
        return sb.toString();
    }
}
