package io.ctrack.engine.status;

import org.agrona.BitUtil;
import org.agrona.concurrent.AtomicBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteBuffer;

/**
 * One owner's set of {@link EngineCounter}s. Single writer (the owning thread increments with plain reads and
 * release stores), any number of readers ({@link #get} reads with acquire semantics). One instance per owner, on
 * its own cache lines, so owners never share a line.
 */
public final class EngineCounters
{
    private static final int SLOT = BitUtil.SIZE_OF_LONG;
    private final AtomicBuffer buffer;

    public EngineCounters()
    {
        this(new UnsafeBuffer(ByteBuffer.allocateDirect(BitUtil.align(EngineCounter.count() * SLOT, 64) + 128), 64,
            BitUtil.align(EngineCounter.count() * SLOT, 64)));
    }

    public EngineCounters(final AtomicBuffer buffer)
    {
        if (buffer.capacity() < EngineCounter.count() * SLOT)
        {
            throw new IllegalArgumentException("counters buffer too small: " + buffer.capacity());
        }
        this.buffer = buffer;
    }

    public void increment(final EngineCounter counter)
    {
        final int offset = counter.id() * SLOT;
        buffer.putLongRelease(offset, buffer.getLong(offset) + 1);
    }

    public void add(final EngineCounter counter, final long delta)
    {
        final int offset = counter.id() * SLOT;
        buffer.putLongRelease(offset, buffer.getLong(offset) + delta);
    }

    public long get(final EngineCounter counter)
    {
        return buffer.getLongAcquire(counter.id() * SLOT);
    }

    /** Adds this set's values into {@code totals} (indexed by counter id). */
    public void addTo(final long[] totals)
    {
        for (int i = 0; i < EngineCounter.count(); i++)
        {
            totals[i] += buffer.getLongAcquire(i * SLOT);
        }
    }
}
