package io.ctrack.engine.table;

/**
 * A reference to a connection entry, as an int: the family bit and the slot in that family's store. 0 is
 * "none" (slot 0 of the IPv4 store is never used). In the index, two more bits say which of the connection's
 * keys an index entry stands for.
 */
final class Refs
{
    static final int FAMILY_V6 = 0x8000_0000;
    /** Index entry matches the original key or its reverse (a connection without NAT: one index entry). */
    static final int MATCH_BOTH = 0;
    /** Index entry matches only the original-direction key (translated connections have two entries). */
    static final int MATCH_ORIG = 0x2000_0000;
    /** Index entry matches only the reply-direction key. */
    static final int MATCH_REPLY = 0x4000_0000;
    static final int MATCH_MASK = 0x6000_0000;
    static final int SLOT_MASK = 0x1FFF_FFFF;
    static final int MAX_SLOTS = SLOT_MASK;

    private Refs()
    {
    }

    static int slot(final int ref)
    {
        return ref & SLOT_MASK;
    }

    static boolean isV6(final int ref)
    {
        return (ref & FAMILY_V6) != 0;
    }

    /** The entry part of a reference (family and slot, no match bits). */
    static int entry(final int ref)
    {
        return ref & (FAMILY_V6 | SLOT_MASK);
    }
}
