package io.ctrack.engine;

import org.agrona.DirectBuffer;

/**
 * A batch of frames to track: where each frame's bytes are. The caller fills it and reuses it; nothing is
 * copied.
 */
public final class FrameBatch
{
    private final DirectBuffer[] buffers;
    private final int[] offsets;
    private final int[] lengths;
    private int count;

    public FrameBatch(final int capacity)
    {
        buffers = new DirectBuffer[capacity];
        offsets = new int[capacity];
        lengths = new int[capacity];
    }

    public FrameBatch clear()
    {
        count = 0;
        return this;
    }

    /** Adds a frame; returns false if the batch is full. */
    public boolean add(final DirectBuffer buffer, final int offset, final int length)
    {
        if (count == buffers.length)
        {
            return false;
        }
        buffers[count] = buffer;
        offsets[count] = offset;
        lengths[count] = length;
        count++;
        return true;
    }

    public int count()
    {
        return count;
    }

    public int capacity()
    {
        return buffers.length;
    }

    public DirectBuffer buffer(final int i)
    {
        return buffers[i];
    }

    public int offset(final int i)
    {
        return offsets[i];
    }

    public int length(final int i)
    {
        return lengths[i];
    }
}
