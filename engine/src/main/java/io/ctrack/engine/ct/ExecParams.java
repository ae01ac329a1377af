package io.ctrack.engine.ct;

/**
 * The ct() action applied to a batch: zone, commit, force (commit, and restart a connection seen in the reply
 * direction), and the mark and label to set on commit as value/mask pairs. Mutable and reused by the caller.
 */
public final class ExecParams
{
    private int zone;
    private boolean commit;
    private boolean force;
    private boolean setMark;
    private int markValue;
    private int markMask;
    private boolean setLabel;
    private long labelValueLo;
    private long labelValueHi;
    private long labelMaskLo;
    private long labelMaskHi;
    private io.ctrack.engine.nat.NatSpec nat;

    /** Plain {@code ct(commit,zone=Z)}. */
    public static ExecParams commit(final int zone)
    {
        return new ExecParams().zone(zone).commit(true);
    }

    public int zone()
    {
        return zone;
    }

    public ExecParams zone(final int zone)
    {
        if (zone < 0 || zone > 0xFFFF)
        {
            throw new IllegalArgumentException("zone must be 0-65535, got " + zone);
        }
        this.zone = zone;
        return this;
    }

    public boolean commit()
    {
        return commit;
    }

    public ExecParams commit(final boolean commit)
    {
        this.commit = commit;
        return this;
    }

    public boolean force()
    {
        return force;
    }

    /** {@code force} implies commit. */
    public ExecParams force(final boolean force)
    {
        this.force = force;
        if (force)
        {
            this.commit = true;
        }
        return this;
    }

    public boolean setMark()
    {
        return setMark;
    }

    public int markValue()
    {
        return markValue;
    }

    public int markMask()
    {
        return markMask;
    }

    /** Sets the mark on commit: {@code mark = value | (mark & ~mask)}. */
    public ExecParams mark(final int value, final int mask)
    {
        this.setMark = true;
        this.markValue = value & mask;
        this.markMask = mask;
        return this;
    }

    public ExecParams clearMark()
    {
        this.setMark = false;
        return this;
    }

    public boolean setLabel()
    {
        return setLabel;
    }

    public long labelValueLo()
    {
        return labelValueLo;
    }

    public long labelValueHi()
    {
        return labelValueHi;
    }

    public long labelMaskLo()
    {
        return labelMaskLo;
    }

    public long labelMaskHi()
    {
        return labelMaskHi;
    }

    /** Sets the 128-bit label on commit: {@code label = value | (label & ~mask)}. */
    public ExecParams label(final long valueLo, final long valueHi, final long maskLo, final long maskHi)
    {
        this.setLabel = true;
        this.labelValueLo = valueLo & maskLo;
        this.labelValueHi = valueHi & maskHi;
        this.labelMaskLo = maskLo;
        this.labelMaskHi = maskHi;
        return this;
    }

    public ExecParams clearLabel()
    {
        this.setLabel = false;
        return this;
    }

    /**
     * The {@code nat(...)} of the action, or null if it has none. {@link io.ctrack.engine.nat.NatSpec#PLAIN} is
     * {@code nat} alone: it applies the translation of connections that have one.
     */
    public io.ctrack.engine.nat.NatSpec nat()
    {
        return nat;
    }

    /** Sets the {@code nat(...)} of the action (null: none). */
    public ExecParams nat(final io.ctrack.engine.nat.NatSpec nat)
    {
        this.nat = nat;
        return this;
    }

    /** Checks what Open vSwitch checks when it parses ct(): mark and label can only be set on commit. */
    public ExecParams validate()
    {
        if ((setMark || setLabel) && !commit)
        {
            throw new IllegalArgumentException("ct_mark and ct_label can only be set with commit");
        }
        return this;
    }

    public ExecParams copyFrom(final ExecParams other)
    {
        zone = other.zone;
        commit = other.commit;
        force = other.force;
        setMark = other.setMark;
        markValue = other.markValue;
        markMask = other.markMask;
        setLabel = other.setLabel;
        labelValueLo = other.labelValueLo;
        labelValueHi = other.labelValueHi;
        labelMaskLo = other.labelMaskLo;
        labelMaskHi = other.labelMaskHi;
        nat = other.nat;
        return this;
    }
}
