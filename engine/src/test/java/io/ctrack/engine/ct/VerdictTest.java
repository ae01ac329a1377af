package io.ctrack.engine.ct;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class VerdictTest
{
    private final UnsafeBuffer from = new UnsafeBuffer(new byte[Verdict.NAT_LENGTH]);
    private final UnsafeBuffer to = new UnsafeBuffer(new byte[Verdict.NAT_LENGTH + 8]);

    @Test
    void copyWithoutLabelCopiesStateMarkReasonAndConnection()
    {
        final Verdict v = new Verdict().wrap(from, 0).set(CtState.NEW | CtState.TRACKED, 0x1234_5678, 99, 0, 0)
            .reason(7);
        fill(to, (byte)0x5A);
        final Verdict copy = new Verdict().wrap(to, 8);
        v.copyTo(copy);
        assertEquals(CtState.NEW | CtState.TRACKED, copy.ctState());
        assertEquals(0, copy.flags());
        assertEquals(7, copy.reason());
        assertEquals(0x1234_5678, copy.mark());
        assertEquals(99, copy.connId());
        assertEquals(0, copy.labelLo());
        assertEquals(0, copy.labelHi());
        assertEquals((byte)0x5A, to.getByte(7), "nothing written before the slot");
    }

    @Test
    void copyWithLabelCopiesTheLabelWords()
    {
        final Verdict v = new Verdict().wrap(from, 0).set(CtState.ESTABLISHED | CtState.TRACKED, 3, 5, 0xAAL, 0xBBL);
        final Verdict copy = new Verdict().wrap(to, 0);
        v.copyTo(copy);
        assertEquals(Verdict.FLAG_LABEL, copy.flags());
        assertEquals(0xAAL, copy.labelLo());
        assertEquals(0xBBL, copy.labelHi());
        assertEquals(5, copy.connId());
    }

    @Test
    void copyLeavesTheNatAndPipelinePartsBehind()
    {
        final Verdict v = new Verdict().wrap(from, 0).set(CtState.NEW | CtState.TRACKED | CtState.SRC_NAT, 1, 2, 0, 0)
            .nat(Verdict.NAT_REWRITE_SOURCE, 10, 20, 0, 0x0A00_0001L).pipeline(4, Verdict.PIPELINE_CT_DONE);
        final Verdict copy = new Verdict().wrap(to, 0);
        v.copyTo(copy);
        assertFalse(copy.hasNat());
        assertFalse(copy.hasPipeline());
        assertEquals(CtState.NEW | CtState.TRACKED | CtState.SRC_NAT, copy.ctState());
        assertEquals(1, copy.mark());
        assertEquals(2, copy.connId());
        v.copyWithNatTo(copy);
        assertEquals(0x0A00_0001L, copy.natAddrLo());
        assertEquals(4, copy.pipelineFlowId());
    }

    private static void fill(final UnsafeBuffer buffer, final byte value)
    {
        buffer.setMemory(0, buffer.capacity(), value);
    }
}
