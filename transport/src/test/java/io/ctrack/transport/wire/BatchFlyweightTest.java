package io.ctrack.transport.wire;

import io.ctrack.engine.ct.ExecParams;
import io.ctrack.engine.key.CtRequest;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.ByteOrder;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchFlyweightTest
{
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;

    private final UnsafeBuffer buffer = new UnsafeBuffer(new byte[BatchFlyweight.length(1024) + 64]);
    private final BatchFlyweight batch = new BatchFlyweight();

    @Test
    void shouldRoundTripEveryHeaderField()
    {
        final ExecParams params = new ExecParams().zone(0xFFFF).commit(true).force(true)
            .mark(0xDEADBEEF, 0xFFFF_FFFF)
            .label(0x0123_4567_89AB_CDEFL, 0xFEDC_BA98_7654_3210L, -1L, -1L);

        batch.wrap(buffer, 8).header(3, 0xFFFF, -2, 1_700_000_000_123L, params);

        assertEquals(BatchFlyweight.VERSION, batch.version());
        assertEquals(3, batch.count());
        assertEquals(0xFFFF, batch.workerId());
        assertEquals(-2, batch.batchSeq());
        assertEquals(1_700_000_000_123L, batch.nowMs());
        final ExecParams read = batch.readParams(new ExecParams());
        assertEquals(0xFFFF, read.zone());
        assertTrue(read.commit());
        assertTrue(read.force());
        assertTrue(read.setMark());
        assertEquals(0xDEADBEEF, read.markValue());
        assertEquals(0xFFFF_FFFF, read.markMask());
        assertTrue(read.setLabel());
        assertEquals(0x0123_4567_89AB_CDEFL, read.labelValueLo());
        assertEquals(0xFEDC_BA98_7654_3210L, read.labelValueHi());
        assertEquals(-1L, read.labelMaskLo());
        assertEquals(-1L, read.labelMaskHi());
    }

    @Test
    void shouldKeepMaskedMarkAndLabelValues()
    {
        final ExecParams params = ExecParams.commit(7).mark(0x1234_5678, 0x0000_FF00)
            .label(0xFFFF_FFFF_FFFF_FFFFL, 0x1L, 0x0000_0000_FFFF_0000L, 0x1L);

        final ExecParams read = batch.wrap(buffer, 0).header(1, 0, 0, 0, params).readParams(new ExecParams());

        assertEquals(7, read.zone());
        assertFalse(read.force());
        assertEquals(0x0000_5600, read.markValue());
        assertEquals(0x0000_FF00, read.markMask());
        assertEquals(0x0000_0000_FFFF_0000L, read.labelValueLo());
        assertEquals(0x1L, read.labelValueHi());
        assertEquals(0x0000_0000_FFFF_0000L, read.labelMaskLo());
        assertEquals(0x1L, read.labelMaskHi());
    }

    @Test
    void shouldClearMarkAndLabelOfTheReaderWhenTheBatchSetsNone()
    {
        final ExecParams reader = ExecParams.commit(1).mark(5, 0xFF).label(1, 2, 3, 4);

        batch.wrap(buffer, 0).header(1, 1, 1, 1, new ExecParams().zone(3)).readParams(reader);

        assertEquals(3, reader.zone());
        assertFalse(reader.commit());
        assertFalse(reader.force());
        assertFalse(reader.setMark());
        assertFalse(reader.setLabel());
    }

    @Test
    void shouldWriteTheDocumentedLittleEndianLayout()
    {
        final ExecParams params = ExecParams.commit(0x0A0B).mark(0x11223344, 0x55667788 | 0x11223344)
            .label(0x0102030405060708L, 0x1112131415161718L, -1L, -1L);
        final int at = 16;

        batch.wrap(buffer, at).header(0x0203, 0x0405, 0x0708090A, 0x0102030405060708L, params);
        batch.position(0, 0x3FF);

        assertEquals(1, buffer.getShort(at, LE));
        assertEquals(0x0203, buffer.getShort(at + 2, LE));
        assertEquals(0x0405, buffer.getShort(at + 4, LE));
        assertEquals(BatchFlyweight.FLAG_COMMIT | BatchFlyweight.FLAG_SET_MARK | BatchFlyweight.FLAG_SET_LABEL,
            buffer.getShort(at + 6, LE));
        assertEquals(0x0708090A, buffer.getInt(at + 8, LE));
        assertEquals(0x0A0B, buffer.getShort(at + 12, LE));
        assertEquals(0, buffer.getShort(at + 14, LE), "reserved");
        assertEquals(0x11223344, buffer.getInt(at + 16, LE));
        assertEquals(0x55667788 | 0x11223344, buffer.getInt(at + 20, LE));
        assertEquals(0x0102030405060708L, buffer.getLong(at + 24, LE));
        assertEquals(0x1112131415161718L, buffer.getLong(at + 32, LE));
        assertEquals(-1L, buffer.getLong(at + 40, LE));
        assertEquals(-1L, buffer.getLong(at + 48, LE));
        assertEquals(0x0102030405060708L, buffer.getLong(at + 56, LE));
        assertEquals(0x3FF, buffer.getShort(at + 64, LE));
        assertEquals(64, BatchFlyweight.HEADER_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 2, 3, 4, 5, 7, 8, 9, 31, 32, 122, 1023, 1024 })
    void shouldRoundTripPositionsAndRequestsWithoutOverlap(final int count)
    {
        final Random random = new Random(count);
        final CtRequest[] written = new CtRequest[count];
        final UnsafeBuffer poisoned = new UnsafeBuffer(new byte[BatchFlyweight.length(count) + 16]);
        poisoned.setMemory(0, poisoned.capacity(), (byte)0x5A);

        batch.wrap(poisoned, 8).header(count, 9, 77, 5, ExecParams.commit(1));
        final int[] positions = new int[count];
        for (int i = 0; i < count; i++)
        {
            positions[i] = count - 1 - i;
            batch.position(i, positions[i]);
        }
        for (int i = 0; i < count; i++)
        {
            written[i] = randomRequest(random);
            batch.request(i, written[i]);
        }

        assertEquals(count, batch.count(), "requests must not overwrite the header");
        assertEquals(8 + BatchFlyweight.HEADER_LENGTH + ((count * 2 + 7) & ~7), batch.requestOffset(0),
            "requests start after the position table padded to 8 bytes");
        assertEquals(8 + BatchFlyweight.length(count), batch.requestOffset(count - 1) + CtRequest.LENGTH,
            "length() covers the last request exactly");
        final CtRequest read = new CtRequest();
        for (int i = 0; i < count; i++)
        {
            assertEquals(positions[i], batch.position(i), "position " + i);
            assertEquals(bytesOf(written[i]), bytesOf(batch.readRequest(i, read)), "request " + i);
        }
        assertEquals(0x5A5A5A5A, poisoned.getInt(8 + BatchFlyweight.length(count), LE), "wrote past length()");
        assertEquals(0x5A5A5A5A, poisoned.getInt(4, LE), "wrote before the offset");
    }

    @Test
    void forwardFlagAddedAfterTheHeaderMakesRoomForTheForwardRecord()
    {
        // How a bucket forwards one held packet: header, then the forwarded flag, then record and request.
        final CtRequest request = randomRequest(new Random(5));
        batch.wrap(buffer, 0).header(1, 3, 44, 9, ExecParams.commit(2)).addFlags(BatchFlyweight.FLAG_FORWARDED);
        batch.position(0, 17);
        batch.forward(0, 1234, 6, true, 0x1122_3344_5566_7788L);
        batch.request(0, request);
        final int length = BatchFlyweight.length(1, batch.flags());

        final BatchFlyweight reader = new BatchFlyweight().wrap(buffer, 0);
        assertEquals(BatchFlyweight.FLAG_FORWARDED | BatchFlyweight.FLAG_COMMIT, reader.flags());
        assertEquals(17, reader.position(0));
        assertEquals(1234, reader.forwardOwnerRef(0));
        assertEquals(0x1122_3344_5566_7788L, reader.forwardConnId(0));
        assertTrue(reader.forwardReply(0));
        assertEquals(bytesOf(request), bytesOf(reader.readRequest(0, new CtRequest())));
        assertEquals(length, reader.requestOffset(0) + CtRequest.LENGTH, "the request ends where length() says");
    }

    @ParameterizedTest
    @ValueSource(ints = { 1, 7, 32, 122 })
    void compactBatchCarriesIpv4RequestsIn40Bytes(final int count)
    {
        final Random random = new Random(count);
        final UnsafeBuffer full = new UnsafeBuffer(new byte[count * CtRequest.LENGTH]);
        final CtRequest[] written = new CtRequest[count];
        final int flags = BatchFlyweight.FLAG_COMPACT | BatchFlyweight.FLAG_COMMIT;
        final UnsafeBuffer poisoned = new UnsafeBuffer(new byte[BatchFlyweight.length(count, flags) + 16]);
        poisoned.setMemory(0, poisoned.capacity(), (byte)0x5A);
        batch.wrap(poisoned, 8).header(count, 1, 2, 3, ExecParams.commit(4)).addFlags(BatchFlyweight.FLAG_COMPACT);
        for (int i = 0; i < count; i++)
        {
            written[i] = randomRequest(random).flags(random.nextInt(2) * CtRequest.FLAG_ICMP_RELATED)
                .src(0, random.nextInt() & 0xFFFF_FFFFL).dst(0, random.nextInt() & 0xFFFF_FFFFL);
            batch.position(i, i);
            if (i % 2 == 0)
            {
                batch.request(i, written[i]);
            }
            else
            {
                // What a packet thread does: the compact record it staged, copied into the batch.
                written[i].writeCompactTo(full, i * CtRequest.COMPACT_LENGTH);
                poisoned.putBytes(batch.requestOffset(i), full, i * CtRequest.COMPACT_LENGTH, CtRequest.COMPACT_LENGTH);
            }
        }

        final BatchFlyweight reader = new BatchFlyweight().wrap(poisoned, 8);
        assertEquals(CtRequest.COMPACT_LENGTH, reader.requestLength());
        assertEquals(8 + BatchFlyweight.length(count, flags), reader.requestOffset(count - 1) + CtRequest.COMPACT_LENGTH);
        final CtRequest read = new CtRequest();
        for (int i = 0; i < count; i++)
        {
            assertEquals(bytesOf(written[i]), bytesOf(reader.readRequest(i, read)), "request " + i);
        }
        assertEquals(0x5A5A5A5A, poisoned.getInt(8 + BatchFlyweight.length(count, flags), LE), "wrote past length()");
    }

    @Test
    void shortFormRefusesRequestsThatNeedMoreThanItCarries()
    {
        final CtRequest udp = new CtRequest().nwProto(17).srcL4(1 << 16).dstL4(2 << 16).src(0, 1).dst(0, 2);
        assertTrue(udp.isShortForm());
        assertTrue(new CtRequest().copyFrom(udp).nwProto(132).isShortForm());
        for (final CtRequest needsMore : new CtRequest[] {
            new CtRequest().copyFrom(udp).nwProto(6),
            new CtRequest().copyFrom(udp).nwProto(1),
            new CtRequest().copyFrom(udp).nwProto(47),
            new CtRequest().copyFrom(udp).flags(CtRequest.FLAG_ICMP_RELATED),
            new CtRequest().copyFrom(udp).flags(CtRequest.FLAG_IPV6),
            new CtRequest().copyFrom(udp).inState(0x21) })
        {
            org.junit.jupiter.api.Assertions.assertFalse(needsMore.isShortForm());
            org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> needsMore.writeShortTo(buffer, 0));
        }
    }

    @Test
    void shortBatchesAreReadBackThroughTheBatchAndFitMoreThanCompactOnes()
    {
        final int compact = BatchFlyweight.capacity(8192 - 32, BatchFlyweight.FLAG_COMPACT);
        final int brief = BatchFlyweight.capacity(8192 - 32, BatchFlyweight.FLAG_SHORT);
        assertTrue(brief > compact);
        assertTrue(BatchFlyweight.length(brief, BatchFlyweight.FLAG_SHORT) <= 8192 - 32);
        final CtRequest udp = new CtRequest().nwProto(17).zone(9).hash(0x1234_5678).srcL4(0xABCD_0000)
            .dstL4(53 << 16).src(0, 0x0A00_0001L).dst(0, 0x0A00_0002L).l4Type(0xAB);
        final UnsafeBuffer message = new UnsafeBuffer(new byte[BatchFlyweight.length(2, BatchFlyweight.FLAG_SHORT)]);
        final BatchFlyweight batch = new BatchFlyweight().wrap(message, 0)
            .header(2, 3, 4, 5, ExecParams.commit(9), BatchFlyweight.FLAG_SHORT, 0);
        batch.request(0, udp).request(1, udp);
        final CtRequest read = batch.readRequest(1, new CtRequest().tcp(1, 2, 3, 4, 5, 6).inState(7));
        assertEquals(17, read.nwProto());
        assertEquals(9, read.zone());
        assertEquals(0x1234_5678, read.hash());
        assertEquals(0xABCD_0000, read.srcL4());
        assertEquals(53 << 16, read.dstL4());
        assertEquals(0x0A00_0001L, read.srcLo());
        assertEquals(0x0A00_0002L, read.dstLo());
        assertEquals(0xAB, read.l4Type());
        assertEquals(0, read.tcpSeq() | read.tcpAck() | read.tcpFlags() | read.tcpPayloadLength() | read.tcpWscale()
            | read.inState());
    }

    @Test
    void compactFormRefusesIpv6()
    {
        final CtRequest v6 = new CtRequest().flags(CtRequest.FLAG_IPV6);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
            () -> v6.writeCompactTo(buffer, 0));
    }

    @Test
    void compactBatchesFitMoreRequestsButNeverLessThanFullOnes()
    {
        final int full = BatchFlyweight.capacity(8192 - 32);
        final int compact = BatchFlyweight.capacity(8192 - 32, BatchFlyweight.FLAG_COMPACT);
        assertTrue(compact > full);
        assertTrue(BatchFlyweight.length(compact, BatchFlyweight.FLAG_COMPACT) <= 8192 - 32);
        assertTrue(BatchFlyweight.length(compact + 1, BatchFlyweight.FLAG_COMPACT) > 8192 - 32);
    }

    @Test
    void shouldRoundTripEveryRequestFieldIncludingSignBits()
    {
        final CtRequest request = new CtRequest().flags(CtRequest.FLAG_IPV6 | CtRequest.FLAG_ICMP_RELATED)
            .nwProto(0xFF).zone(0xFFFF).hash(0x8000_0001).srcL4(0xFFFF_0000).dstL4(0x8001_0000)
            .src(-1L, Long.MIN_VALUE).dst(Long.MAX_VALUE, 0x8000_0000L)
            .tcp(0xFFFF_FFFF, 0x8000_0000, 0xFFFF, 0xFFF, 0xFFFF, 0x8E).inState(0xC0);

        batch.wrap(buffer, 0).header(1, 0, 0, 0, ExecParams.commit(0)).request(0, request);
        final CtRequest read = batch.readRequest(0, new CtRequest());

        assertEquals(request.flags(), read.flags());
        assertEquals(0xFF, read.nwProto());
        assertEquals(0xFFFF, read.zone());
        assertEquals(0x8000_0001, read.hash());
        assertEquals(0xFFFF_0000, read.srcL4());
        assertEquals(0x8001_0000, read.dstL4());
        assertEquals(-1L, read.srcHi());
        assertEquals(Long.MIN_VALUE, read.srcLo());
        assertEquals(Long.MAX_VALUE, read.dstHi());
        assertEquals(0x8000_0000L, read.dstLo());
        assertEquals(0xFFFF_FFFF, read.tcpSeq());
        assertEquals(0x8000_0000, read.tcpAck());
        assertEquals(0xFFFF, read.tcpWindow());
        assertEquals(0xFFF, read.tcpFlags());
        assertEquals(0xFFFF, read.tcpPayloadLength());
        assertEquals(0x8E, read.tcpWscale());
        assertEquals(0xC0, read.inState());
    }

    @ParameterizedTest
    @ValueSource(ints = { 64, 65, 130, 200, 1408 - 32, 4096, 8192 - 32, 65_536 })
    void shouldComputeTheLargestBatchThatFits(final int maxLength)
    {
        final int capacity = BatchFlyweight.capacity(maxLength);

        assertTrue(BatchFlyweight.length(capacity) <= maxLength || capacity == 0);
        assertTrue(BatchFlyweight.length(capacity + 1) > maxLength, "one more request would still fit");
    }

    @Test
    void shouldFitThe122RequestsOfAnMtu8192Frame()
    {
        // What PacketWorker relies on: with the default 8 KiB MTU a frame carries up to capacity(8160) requests.
        assertEquals(122, BatchFlyweight.capacity(8192 - 32));
    }

    private static CtRequest randomRequest(final Random random)
    {
        return new CtRequest().flags(random.nextInt(4)).nwProto(random.nextInt(256)).zone(random.nextInt(65_536))
            .hash(random.nextInt()).srcL4(random.nextInt()).dstL4(random.nextInt())
            .src(random.nextLong(), random.nextLong()).dst(random.nextLong(), random.nextLong())
            .tcp(random.nextInt(), random.nextInt(), random.nextInt(65_536), random.nextInt(4096),
                random.nextInt(65_536), random.nextInt(256))
            .inState(random.nextInt(256));
    }

    private static String bytesOf(final CtRequest request)
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[CtRequest.LENGTH]);
        request.writeTo(out, 0);
        return java.util.HexFormat.of().formatHex(out.byteArray());
    }

    @Test
    void headerWithItsFlagsAndTableInOneCallWritesWhatTheStepByStepCallsWrite()
    {
        final ExecParams params = ExecParams.commit(0x0A0B).mark(0x11223344, 0x55667788).label(1, 2, 3, 4);
        final UnsafeBuffer stepwise = new UnsafeBuffer(new byte[BatchFlyweight.HEADER_LENGTH]);
        final UnsafeBuffer once = new UnsafeBuffer(new byte[BatchFlyweight.HEADER_LENGTH]);
        for (final int extra : new int[] { 0, BatchFlyweight.FLAG_COMPACT, BatchFlyweight.FLAG_PIPELINE,
            BatchFlyweight.FLAG_COMPACT | BatchFlyweight.FLAG_PIPELINE })
        {
            stepwise.setMemory(0, stepwise.capacity(), (byte)0x77);
            once.setMemory(0, once.capacity(), (byte)0x77);
            // Step by step, as the wire format says: the flags or'ed in, the post-ct table at bytes 14-15.
            final BatchFlyweight a = new BatchFlyweight().wrap(stepwise, 0).header(9, 3, 77, 123_456L, params);
            if ((extra & BatchFlyweight.FLAG_PIPELINE) != 0)
            {
                stepwise.putShort(14, (short)5, LE);
            }
            a.addFlags(extra);
            final BatchFlyweight b = new BatchFlyweight().wrap(once, 0).header(9, 3, 77, 123_456L, params, extra, 5);
            assertEquals(java.util.HexFormat.of().formatHex(stepwise.byteArray()),
                java.util.HexFormat.of().formatHex(once.byteArray()), "flags " + extra);
            assertEquals(a.requestOffset(3), b.requestOffset(3));
            assertEquals(a.fieldsOffset(3), b.fieldsOffset(3));
        }
    }
}
