package io.ctrack.engine.pcap;

import io.ctrack.engine.testing.TestPackets;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Classic pcap files in every variant the reader accepts (microsecond and nanosecond magics, either byte order)
 * and every way a file can be unusable, each reported with the file's name and the problem.
 */
class PcapReaderTest
{
    private static final int MAGIC_MICROS = 0xA1B2C3D4;
    private static final int MAGIC_NANOS = 0xA1B23C4D;

    @TempDir
    Path dir;

    private final byte[] frame1 = TestPackets.ipv4("10.0.0.1", "10.0.0.2").udp(1, 2).payload(5).build();
    private final byte[] frame2 = TestPackets.ipv6("fd00::1", "fd00::2").tcp(3, 4).flags(TestPackets.SYN).build();

    /** A pcap written by hand: global header and records in {@code order}. */
    private static byte[] pcap(final ByteOrder order, final int magic, final int linkType, final long[] timesNanos,
        final byte[]... frames)
    {
        final boolean nanos = magic == MAGIC_NANOS;
        final ByteBuffer b = ByteBuffer.allocate(24 + Arrays.stream(frames).mapToInt(f -> 16 + f.length).sum()).order(order);
        b.putInt(magic).putShort((short)2).putShort((short)4).putInt(0).putInt(0).putInt(65535).putInt(linkType);
        for (int i = 0; i < frames.length; i++)
        {
            b.putInt((int)(timesNanos[i] / 1_000_000_000L));
            final long fraction = timesNanos[i] % 1_000_000_000L;
            b.putInt((int)(nanos ? fraction : fraction / 1000));
            b.putInt(frames[i].length).putInt(frames[i].length + 10);
            b.put(frames[i]);
        }
        return b.array();
    }

    private Path write(final String name, final byte[] bytes) throws IOException
    {
        final Path file = dir.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    private record Record(byte[] frame, long timestampNanos, int originalLength)
    {
    }

    private static List<Record> readAll(final Path file) throws Exception
    {
        final List<Record> records = new ArrayList<>();
        try (PcapReader reader = PcapReader.open(file))
        {
            while (reader.next())
            {
                final byte[] frame = new byte[reader.frameLength()];
                reader.buffer().getBytes(reader.frameOffset(), frame);
                records.add(new Record(frame, reader.timestampNanos(), reader.originalLength()));
                assertEquals(records.size(), reader.recordNumber());
            }
        }
        return records;
    }

    private void assertTwoRecords(final Path file, final long t1, final long t2) throws Exception
    {
        final List<Record> records = readAll(file);
        assertEquals(2, records.size());
        assertArrayEquals(frame1, records.get(0).frame());
        assertArrayEquals(frame2, records.get(1).frame());
        assertEquals(t1, records.get(0).timestampNanos());
        assertEquals(t2, records.get(1).timestampNanos());
        assertEquals(frame1.length + 10, records.get(0).originalLength());
    }

    @Test
    void shouldReadWhatPcapWriterWritesWithMicrosecondTimestamps() throws Exception
    {
        final Path file = dir.resolve("micros.pcap");
        try (PcapWriter writer = new PcapWriter(file, false))
        {
            writer.write(1_700_000_000_123_456_789L, new UnsafeBuffer(frame1), 0, frame1.length, frame1.length);
            writer.write(1_700_000_001_000_001_999L, new UnsafeBuffer(frame2), 0, frame2.length, 9000);
        }
        final List<Record> records = readAll(file);
        assertEquals(2, records.size());
        assertArrayEquals(frame1, records.get(0).frame());
        assertArrayEquals(frame2, records.get(1).frame());
        assertEquals(1_700_000_000_123_456_000L, records.get(0).timestampNanos());
        assertEquals(1_700_000_001_000_001_000L, records.get(1).timestampNanos());
        assertEquals(9000, records.get(1).originalLength());
        try (PcapReader reader = PcapReader.open(file))
        {
            assertFalse(reader.isNanosecond());
        }
    }

    @Test
    void shouldReadWhatPcapWriterWritesWithNanosecondTimestamps() throws Exception
    {
        final Path file = dir.resolve("nanos.pcap");
        try (PcapWriter writer = new PcapWriter(file, true))
        {
            writer.write(1_700_000_000_123_456_789L, new UnsafeBuffer(frame1), 0, frame1.length, frame1.length);
        }
        try (PcapReader reader = PcapReader.open(file))
        {
            assertTrue(reader.isNanosecond());
            assertTrue(reader.next());
            assertEquals(1_700_000_000_123_456_789L, reader.timestampNanos());
            assertFalse(reader.next());
        }
    }

    @Test
    void shouldReadBigEndianMicrosecondFiles() throws Exception
    {
        final long[] times = { 5_000_000_000L + 250_000_000L, 6_000_000_000L + 1_000L };
        assertTwoRecords(write("be-us.pcap", pcap(ByteOrder.BIG_ENDIAN, MAGIC_MICROS, 1, times, frame1, frame2)),
            times[0], times[1]);
    }

    @Test
    void shouldReadBigEndianNanosecondFiles() throws Exception
    {
        final long[] times = { 5_000_000_123L, 6_999_999_999L };
        assertTwoRecords(write("be-ns.pcap", pcap(ByteOrder.BIG_ENDIAN, MAGIC_NANOS, 1, times, frame1, frame2)),
            times[0], times[1]);
    }

    @Test
    void shouldReadLittleEndianFilesWrittenByHand() throws Exception
    {
        final long[] us = { 1_000_000L, 2_000_000_000L };
        assertTwoRecords(write("le-us.pcap", pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_MICROS, 1, us, frame1, frame2)), us[0], us[1]);
        final long[] ns = { 7L, 2_000_000_001L };
        assertTwoRecords(write("le-ns.pcap", pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_NANOS, 1, ns, frame1, frame2)), ns[0], ns[1]);
    }

    @Test
    void shouldIgnoreTheFcsBitsOfTheLinkTypeField() throws Exception
    {
        final long[] t = { 0 };
        assertEquals(1, readAll(write("fcs.pcap", pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_MICROS, 0x1000_0001, t, frame1))).size());
    }

    @Test
    void shouldValidateThenRewind() throws Exception
    {
        final Path file = write("two.pcap", pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_MICROS, 1, new long[] { 1, 2 }, frame1, frame2));
        try (PcapReader reader = PcapReader.open(file))
        {
            assertEquals(2, reader.validate());
            assertTrue(reader.next());
            assertEquals(1, reader.recordNumber());
            assertEquals(frame1.length, reader.frameLength());
        }
    }

    @Test
    void shouldReadAHeaderOnlyFileAsEmpty() throws Exception
    {
        final Path file = write("header-only.pcap", pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_MICROS, 1, new long[0]));
        try (PcapReader reader = PcapReader.open(file))
        {
            assertEquals(0, reader.validate());
            assertFalse(reader.next());
        }
    }

    private String failure(final Path file)
    {
        final PcapFormatException ex = assertThrows(PcapFormatException.class, () -> readAll(file));
        assertTrue(ex.getMessage().startsWith(file.toString() + ": "), ex.getMessage());
        return ex.getMessage();
    }

    @Test
    void shouldRefuseAnEmptyFile() throws Exception
    {
        final String message = failure(write("empty.pcap", new byte[0]));
        assertTrue(message.contains("not a pcap file (0 bytes"), message);
    }

    @Test
    void shouldRefuseATruncatedGlobalHeader() throws Exception
    {
        final byte[] whole = pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_MICROS, 1, new long[0]);
        final String message = failure(write("short-header.pcap", Arrays.copyOf(whole, 10)));
        assertTrue(message.contains("shorter than a pcap header"), message);
    }

    @Test
    void shouldRefuseATruncatedRecordHeader() throws Exception
    {
        final byte[] whole = pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_MICROS, 1, new long[] { 1, 2 }, frame1, frame2);
        final int cut = 24 + 16 + frame1.length + 9;
        final String message = failure(write("short-record-header.pcap", Arrays.copyOf(whole, cut)));
        assertTrue(message.contains("truncated") && message.contains("record 2"), message);
    }

    @Test
    void shouldRefuseATruncatedRecord() throws Exception
    {
        final byte[] whole = pcap(ByteOrder.BIG_ENDIAN, MAGIC_MICROS, 1, new long[] { 1 }, frame1);
        final String message = failure(write("short-record.pcap", Arrays.copyOf(whole, whole.length - 3)));
        assertTrue(message.contains("truncated") && message.contains("record 1"), message);
    }

    @Test
    void shouldRefuseACorruptCapturedLength() throws Exception
    {
        final byte[] whole = pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_MICROS, 1, new long[] { 1 }, frame1);
        ByteBuffer.wrap(whole).order(ByteOrder.LITTLE_ENDIAN).putInt(24 + 8, -5);
        final String message = failure(write("corrupt.pcap", whole));
        assertTrue(message.contains("corrupt record 1"), message);
    }

    @Test
    void shouldRefusePcapngWithAHint() throws Exception
    {
        final ByteArrayOutputStream ng = new ByteArrayOutputStream();
        ng.writeBytes(new byte[] { 0x0A, 0x0D, 0x0D, 0x0A, 28, 0, 0, 0, 0x4D, 0x3C, 0x2B, 0x1A, 1, 0, 0, 0 });
        ng.writeBytes(new byte[] { -1, -1, -1, -1, -1, -1, -1, -1, 28, 0, 0, 0 });
        final String message = failure(write("capture.pcapng", ng.toByteArray()));
        assertTrue(message.contains("pcapng") && message.contains("editcap"), message);
    }

    @Test
    void shouldRefuseAnUnknownMagic() throws Exception
    {
        final String message = failure(write("text.pcap", "this is not a capture at all, really".getBytes()));
        assertTrue(message.contains("not a pcap file (magic number 0x"), message);
    }

    @Test
    void shouldRefuseLinkTypesOtherThanEthernet() throws Exception
    {
        final String message = failure(write("cooked.pcap", pcap(ByteOrder.LITTLE_ENDIAN, MAGIC_MICROS, 113, new long[0])));
        assertTrue(message.contains("link type 113"), message);
        final String raw = failure(write("raw.pcap", pcap(ByteOrder.BIG_ENDIAN, MAGIC_NANOS, 101, new long[0])));
        assertTrue(raw.contains("link type 101"), raw);
    }

    @Test
    void shouldReportAMissingFileAsAnIoError()
    {
        assertThrows(IOException.class, () -> PcapReader.open(dir.resolve("absent.pcap")));
    }
}
