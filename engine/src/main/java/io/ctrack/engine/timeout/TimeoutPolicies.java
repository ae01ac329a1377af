package io.ctrack.engine.timeout;

import org.agrona.collections.Int2IntHashMap;

import java.util.Arrays;

/**
 * Timeout policies by id and the zone-to-policy mapping. Policy 0 is the default policy and always exists.
 * A policy sets some attributes; the rest keep their defaults. A connection remembers its policy id and every
 * expiration update reads the policy's current value, so a changed policy applies to existing connections at
 * their next packet, as in Open vSwitch; a deleted policy falls back to the defaults. A zone without a mapping
 * uses policy 0. Single-threaded: each owner of a connection table holds its own copy.
 */
public final class TimeoutPolicies
{
    public static final int DEFAULT_POLICY = 0;
    public static final int MAX_POLICY_ID = 0xFFFF;

    private static final int[] DEFAULTS = new int[TimeoutAttr.count()];

    static
    {
        for (int i = 0; i < DEFAULTS.length; i++)
        {
            DEFAULTS[i] = TimeoutAttr.byOrdinal(i).defaultSeconds();
        }
    }

    private int[][] secondsById = new int[1][];
    /** Policy 0 in milliseconds: the path every connection without a zone policy takes. */
    private final long[] defaultPolicyMs = new long[TimeoutAttr.count()];
    private final Int2IntHashMap policyByZone = new Int2IntHashMap(DEFAULT_POLICY);
    private long version;

    public TimeoutPolicies()
    {
        secondsById[DEFAULT_POLICY] = DEFAULTS.clone();
        refreshDefaultMs();
    }

    private void refreshDefaultMs()
    {
        for (int i = 0; i < defaultPolicyMs.length; i++)
        {
            defaultPolicyMs[i] = secondsById[DEFAULT_POLICY][i] * 1000L;
        }
    }

    /**
     * The default policy's timeouts in milliseconds, indexed by {@link TimeoutAttr#ordinal()}: the live array, kept
     * current in place when the default policy changes. For the table's per-packet path; callers must not write it.
     */
    public long[] defaultMillis()
    {
        return defaultPolicyMs;
    }

    /** Seconds for {@code attr} under policy {@code policyId} (defaults if the policy does not exist). */
    public int seconds(final int policyId, final TimeoutAttr attr)
    {
        final int[][] byId = secondsById;
        final int[] policy = policyId < byId.length ? byId[policyId] : null;
        return policy != null ? policy[attr.ordinal()] : DEFAULTS[attr.ordinal()];
    }

    /** Milliseconds for {@code attr} under {@code policyId}. */
    public long millis(final int policyId, final TimeoutAttr attr)
    {
        if (policyId == DEFAULT_POLICY)
        {
            return defaultPolicyMs[attr.ordinal()];
        }
        return seconds(policyId, attr) * 1000L;
    }

    /** The policy new connections in {@code zone} get. */
    public int policyForZone(final int zone)
    {
        return policyByZone.get(zone);
    }

    /**
     * Creates or replaces policy {@code policyId}: attributes present in {@code seconds} (non-negative values,
     * indexed by {@link TimeoutAttr#ordinal()}) are set, negative entries keep the default.
     */
    public void setPolicy(final int policyId, final int[] seconds)
    {
        checkId(policyId);
        if (seconds.length != TimeoutAttr.count())
        {
            throw new IllegalArgumentException("a policy has " + TimeoutAttr.count() + " timeouts, got " + seconds.length);
        }
        final int[] values = DEFAULTS.clone();
        for (int i = 0; i < values.length; i++)
        {
            if (seconds[i] >= 0)
            {
                values[i] = seconds[i];
            }
        }
        if (policyId >= secondsById.length)
        {
            secondsById = Arrays.copyOf(secondsById, Math.max(policyId + 1, secondsById.length * 2));
        }
        secondsById[policyId] = values;
        refreshDefaultMs();
        version++;
    }

    /** Deletes a policy (its connections fall back to defaults); the default policy is reset instead. */
    public boolean deletePolicy(final int policyId)
    {
        checkId(policyId);
        if (policyId == DEFAULT_POLICY)
        {
            secondsById[DEFAULT_POLICY] = DEFAULTS.clone();
            refreshDefaultMs();
            version++;
            return true;
        }
        if (policyId < secondsById.length && secondsById[policyId] != null)
        {
            secondsById[policyId] = null;
            version++;
            return true;
        }
        return false;
    }

    /** Maps {@code zone} to {@code policyId} (0 removes the mapping). */
    public void setZonePolicy(final int zone, final int policyId)
    {
        checkId(policyId);
        if (zone < 0 || zone > 0xFFFF)
        {
            throw new IllegalArgumentException("zone must be 0-65535, got " + zone);
        }
        if (policyId == DEFAULT_POLICY)
        {
            policyByZone.remove(zone);
        }
        else
        {
            policyByZone.put(zone, policyId);
        }
        version++;
    }

    /** A copy of policy {@code policyId}'s seconds by attribute ordinal, or null if it does not exist. */
    public int[] policy(final int policyId)
    {
        final int[] policy = policyId < secondsById.length ? secondsById[policyId] : null;
        return policy == null ? null : policy.clone();
    }

    /** Bumped by every change, so holders of a copy can tell it moved. */
    public long version()
    {
        return version;
    }

    /** Copies every policy and mapping from {@code other}. */
    public void copyFrom(final TimeoutPolicies other)
    {
        secondsById = new int[other.secondsById.length][];
        for (int i = 0; i < other.secondsById.length; i++)
        {
            secondsById[i] = other.secondsById[i] == null ? null : other.secondsById[i].clone();
        }
        refreshDefaultMs();
        policyByZone.clear();
        policyByZone.putAll(other.policyByZone);
        version++;
    }

    private static void checkId(final int policyId)
    {
        if (policyId < 0 || policyId > MAX_POLICY_ID)
        {
            throw new IllegalArgumentException("timeout policy id must be 0-" + MAX_POLICY_ID + ", got " + policyId);
        }
    }
}
