package io.ctrack.engine.packet;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.UnsafeApi;

import java.nio.ByteOrder;

/**
 * Little-endian 64-bit words of a fixed-size record, read and written without a bounds check per word: the caller
 * checks the whole record once ({@link #check}), then moves its words. For the records the packet path moves by
 * the million (requests, verdicts), where Agrona's check on every access would cost more than the moves. Packet
 * bytes are read through the checked accessors, except the fixed Ethernet, IPv4 and UDP/TCP words the key
 * extractor's fast path reads after one check of them ({@code ConnKeyExtractor.extractIpv4Fast}).
 */
public final class RecordWords
{
    private static final boolean NATIVE_LITTLE_ENDIAN = ByteOrder.nativeOrder() == ByteOrder.LITTLE_ENDIAN;

    private RecordWords()
    {
    }

    /** Checks that {@code length} bytes at {@code offset} lie inside {@code buffer} (always, whatever Agrona's flag). */
    public static void check(final DirectBuffer buffer, final int offset, final int length)
    {
        buffer.boundsCheck(offset, length);
    }

    /** The little-endian word at {@code offset}, which a {@link #check} of its record covered. */
    public static long get(final DirectBuffer buffer, final int offset)
    {
        final long value = UnsafeApi.getLong(buffer.byteArray(), buffer.addressOffset() + offset);
        return NATIVE_LITTLE_ENDIAN ? value : Long.reverseBytes(value);
    }

    /** Copies a record of {@code length} bytes (a multiple of 8) word by word, checking both ends once. */
    public static void copy(final DirectBuffer from, final int fromOffset, final MutableDirectBuffer to,
        final int toOffset, final int length)
    {
        check(from, fromOffset, length);
        check(to, toOffset, length);
        for (int w = 0; w < length; w += 8)
        {
            put(to, toOffset + w, get(from, fromOffset + w));
        }
    }

    /** Writes a little-endian word at {@code offset}, which a {@link #check} of its record covered. */
    public static void put(final MutableDirectBuffer buffer, final int offset, final long value)
    {
        UnsafeApi.putLong(buffer.byteArray(), buffer.addressOffset() + offset,
            NATIVE_LITTLE_ENDIAN ? value : Long.reverseBytes(value));
    }
}
