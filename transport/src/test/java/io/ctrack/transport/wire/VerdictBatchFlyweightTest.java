package io.ctrack.transport.wire;

import io.ctrack.engine.ct.CtState;
import io.ctrack.engine.ct.Verdict;
import io.ctrack.engine.status.EngineCounter;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VerdictBatchFlyweightTest
{
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final VerdictBatchFlyweight verdicts = new VerdictBatchFlyweight();

    @Test
    void shouldRoundTripTheHeader()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[VerdictBatchFlyweight.length(3) + 8]);

        verdicts.wrap(buffer, 8).header(3, 0xFFFF, -7);

        assertEquals(VerdictBatchFlyweight.VERSION, verdicts.version());
        assertEquals(3, verdicts.count());
        assertEquals(0xFFFF, verdicts.bucketId());
        assertEquals(-7, verdicts.batchSeq());
        assertEquals(1, buffer.getShort(8, LE));
        assertEquals(3, buffer.getShort(10, LE));
        assertEquals(0xFFFF, buffer.getShort(12, LE) & 0xFFFF);
        assertEquals(32, buffer.getShort(14, LE), "verdict length");
        assertEquals(32, verdicts.verdictLength());
        assertEquals(-7, buffer.getInt(16, LE));
        assertEquals(0, buffer.getInt(20, LE), "reserved");

        verdicts.header(3, 1, 9, 64);
        assertEquals(64, verdicts.verdictLength());
        assertEquals(verdicts.verdict(0).offset() + 64, verdicts.verdict(1).offset(), "verdicts with their NAT part");
        buffer.putShort(14, (short)0, LE);
        assertEquals(32, verdicts.verdictLength(), "0 (an older writer) means 32");
    }

    @Test
    void shouldRoundTripEveryKindOfVerdict()
    {
        final int count = 5;
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[VerdictBatchFlyweight.length(count)]);
        buffer.setMemory(0, buffer.capacity(), (byte)0xEE);
        verdicts.wrap(buffer, 0).header(count, 2, 40);
        for (int i = 0; i < count; i++)
        {
            verdicts.position(i, 1000 + i);
        }

        verdicts.verdict(0).set(CtState.NEW | CtState.TRACKED, 0xCAFEBABE, 0x0000_0102_0000_0003L,
            0x1111_2222_3333_4444L, 0x8000_0000_0000_0001L);
        verdicts.verdict(1).set(CtState.ESTABLISHED | CtState.REPLY_DIR | CtState.TRACKED, 7, 99, 0, 0);
        verdicts.verdict(2).dropped(EngineCounter.DROPPED_BUCKET_FAILURE.id());
        verdicts.verdict(3).held();
        verdicts.verdict(4).invalid(EngineCounter.INVALID_TCP_FLAGS.id());

        for (int i = 0; i < count; i++)
        {
            assertEquals(1000 + i, verdicts.position(i));
        }
        final Verdict v0 = verdicts.verdict(0);
        assertEquals("new|trk", CtState.format(v0.ctState()));
        assertEquals(Verdict.FLAG_LABEL, v0.flags());
        assertEquals(0xCAFEBABE, v0.mark());
        assertEquals(0x0000_0102_0000_0003L, v0.connId());
        assertEquals(0x1111_2222_3333_4444L, v0.labelLo());
        assertEquals(0x8000_0000_0000_0001L, v0.labelHi());
        assertEquals(0, v0.reason());

        final Verdict v1 = verdicts.verdict(1);
        assertEquals("est|rpl|trk", CtState.format(v1.ctState()));
        assertEquals(0, v1.flags());
        assertEquals(7, v1.mark());
        assertEquals(99, v1.connId());
        assertEquals(0, v1.labelLo(), "no label flag: label reads as 0 whatever the bytes hold");
        assertEquals(0, v1.labelHi());

        final Verdict v2 = verdicts.verdict(2);
        assertEquals(Verdict.FLAG_DROPPED, v2.flags());
        assertEquals(EngineCounter.DROPPED_BUCKET_FAILURE.id(), v2.reason());
        assertEquals(0, v2.ctState());
        assertEquals(0, v2.connId());

        final Verdict v3 = verdicts.verdict(3);
        assertEquals(Verdict.FLAG_HELD, v3.flags());
        assertEquals("0", CtState.format(v3.ctState()));

        final Verdict v4 = verdicts.verdict(4);
        assertEquals("inv|trk", CtState.format(v4.ctState()));
        assertEquals(EngineCounter.INVALID_TCP_FLAGS.id(), v4.reason());
        assertEquals(0, v4.flags());
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 3, 4, 5, 122, 1024 })
    void shouldPlaceVerdictsAfterThePaddedPositionTable(final int count)
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[VerdictBatchFlyweight.length(count) + 32]);
        buffer.setMemory(0, buffer.capacity(), (byte)0x77);
        verdicts.wrap(buffer, 0).header(count, 1, 1);
        for (int i = 0; i < count; i++)
        {
            verdicts.position(i, i ^ 0x155);
            verdicts.verdict(i).set(CtState.TRACKED, i, i, 0, 0);
        }

        final int firstVerdict = VerdictBatchFlyweight.HEADER_LENGTH + ((count * 2 + 7) & ~7);
        assertEquals(firstVerdict, verdicts.verdict(0).offset());
        assertEquals(VerdictBatchFlyweight.length(count), verdicts.verdict(count - 1).offset() + Verdict.LENGTH);
        assertEquals(count, verdicts.count(), "verdicts must not overwrite the header");
        for (int i = 0; i < count; i++)
        {
            assertEquals(i ^ 0x155, verdicts.position(i), "positions must not be overwritten by verdicts");
            assertEquals(i, verdicts.verdict(i).mark());
        }
        assertEquals(0x77777777, buffer.getInt(VerdictBatchFlyweight.length(count), LE), "wrote past length()");
    }

    @Test
    void shouldCopyOnlyTheWrittenPartOfAVerdictWithoutLabel()
    {
        final UnsafeBuffer from = new UnsafeBuffer(new byte[Verdict.LENGTH]);
        final UnsafeBuffer to = new UnsafeBuffer(new byte[Verdict.LENGTH]);
        to.setMemory(0, Verdict.LENGTH, (byte)0x33);
        final Verdict source = new Verdict().wrap(from, 0).set(CtState.NEW | CtState.TRACKED, 1, 2, 0, 0);

        source.copyTo(new Verdict().wrap(to, 0));

        final Verdict copy = new Verdict().wrap(to, 0);
        assertEquals(CtState.NEW | CtState.TRACKED, copy.ctState());
        assertEquals(0, copy.flags());
        assertEquals(1, copy.mark());
        assertEquals(2, copy.connId());
        assertEquals(0, copy.labelLo(), "the stale label bytes are hidden by the flag");
    }

    @ParameterizedTest
    @ValueSource(ints = { 100, 1408, 8160, 65504 })
    void shouldFitAsManyVerdictsAsTheLengthAllowsAndNoMore(final int maxLength)
    {
        for (final int verdictLength : new int[] { Verdict.LENGTH, Verdict.NAT_LENGTH })
        {
            final int capacity = VerdictBatchFlyweight.capacity(maxLength, verdictLength);
            org.junit.jupiter.api.Assertions.assertTrue(capacity > 0);
            org.junit.jupiter.api.Assertions.assertTrue(VerdictBatchFlyweight.length(capacity, verdictLength) <= maxLength);
            org.junit.jupiter.api.Assertions.assertTrue(VerdictBatchFlyweight.length(capacity + 1, verdictLength) > maxLength);
        }
    }
}
