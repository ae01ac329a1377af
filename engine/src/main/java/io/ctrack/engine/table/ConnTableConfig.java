package io.ctrack.engine.table;

/**
 * Sizing of one {@link ConnTable}.
 *
 * @param tableId          goes in the high bits of connection ids, so ids are unique across a node's tables.
 * @param initialCapacity  IPv4 connections the table holds before it first grows.
 * @param wheelSlots       expiry wheel slots (a power of two).
 * @param wheelSlotMs      width of one expiry slot: a connection is swept at most this long (plus the sweep
 *                         period) after it expires.
 */
public record ConnTableConfig(int tableId, int initialCapacity, int wheelSlots, long wheelSlotMs)
{
    public static final int DEFAULT_WHEEL_SLOTS = 8192;
    public static final long DEFAULT_WHEEL_SLOT_MS = 250;

    public ConnTableConfig
    {
        if (tableId < 0 || tableId > 0xFFFFFF)
        {
            throw new IllegalArgumentException("tableId must be 0-16777215, got " + tableId);
        }
        if (initialCapacity < 1)
        {
            throw new IllegalArgumentException("initialCapacity must be positive, got " + initialCapacity);
        }
    }

    /** Defaults for a table of {@code initialCapacity} connections. */
    public static ConnTableConfig of(final int tableId, final int initialCapacity)
    {
        return new ConnTableConfig(tableId, initialCapacity, DEFAULT_WHEEL_SLOTS, DEFAULT_WHEEL_SLOT_MS);
    }
}
