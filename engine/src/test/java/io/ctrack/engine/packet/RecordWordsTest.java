package io.ctrack.engine.packet;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class RecordWordsTest
{
    @Test
    void wordsAreLittleEndianAndAgreeWithAgronasAccessorsOnHeapAndOffHeap()
    {
        for (final UnsafeBuffer buffer : new UnsafeBuffer[] {
            new UnsafeBuffer(new byte[64]), new UnsafeBuffer(ByteBuffer.allocateDirect(64)) })
        {
            RecordWords.check(buffer, 8, 16);
            RecordWords.put(buffer, 8, 0x0102_0304_0506_0708L);
            assertEquals(0x08, buffer.getByte(8), "least significant byte first");
            assertEquals(0x0102_0304_0506_0708L, buffer.getLong(8, ByteOrder.LITTLE_ENDIAN));
            buffer.putLong(16, -2L, ByteOrder.LITTLE_ENDIAN);
            assertEquals(-2L, RecordWords.get(buffer, 16));
            assertEquals(0L, buffer.getLong(24, ByteOrder.LITTLE_ENDIAN), "nothing written past the word");
        }
    }

    @Test
    void copyMovesExactlyTheRecordAndRefusesOneThatDoesNotFit()
    {
        final UnsafeBuffer from = new UnsafeBuffer(new byte[32]);
        final UnsafeBuffer to = new UnsafeBuffer(new byte[40]);
        for (int i = 0; i < 32; i++)
        {
            from.putByte(i, (byte)(i + 1));
        }
        RecordWords.copy(from, 8, to, 16, 16);
        for (int i = 0; i < 40; i++)
        {
            assertEquals(i >= 16 && i < 32 ? (byte)(i - 8 + 1) : 0, to.getByte(i), "byte " + i);
        }
        assertThrows(IndexOutOfBoundsException.class, () -> RecordWords.copy(from, 24, to, 0, 16));
        assertThrows(IndexOutOfBoundsException.class, () -> RecordWords.copy(from, 0, to, 32, 16));
    }

    @Test
    void checkRefusesARecordThatDoesNotFitWhateverAgronasFlag()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        RecordWords.check(buffer, 32, 32);
        assertThrows(IndexOutOfBoundsException.class, () -> RecordWords.check(buffer, 40, 32));
        assertThrows(IndexOutOfBoundsException.class, () -> RecordWords.check(buffer, -8, 16));
    }
}
