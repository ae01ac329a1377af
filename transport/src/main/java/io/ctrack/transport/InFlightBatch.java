package io.ctrack.transport;

import io.ctrack.engine.FrameBatch;
import io.ctrack.engine.PacketPreprocessor;
import io.ctrack.engine.ct.Verdict;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.util.Arrays;

/**
 * One batch in flight in a {@link PacketWorker}: where its verdicts go, how many are outstanding, its deadline, the
 * datagrams completed by its fragments (answered with the same verdict), and its frames while a translation may
 * still rewrite them.
 */
final class InFlightBatch
{
    boolean inUse;
    int seq;
    int stride = Verdict.LENGTH;
    MutableDirectBuffer verdicts;
    int verdictOffset;
    int count;
    int outstanding;
    long tagBase;
    long userTag;
    long deadlineNs;
    int fragmentGroups;
    int[] groupPosition = new int[4];
    int[] groupStart = new int[4];
    int[] groupLength = new int[4];
    long[] fragmentTags = new long[16];
    int fragmentTagCount;
    DirectBuffer[] frameBuffers = new DirectBuffer[0];
    int[] frameOffsets = new int[0];
    int[] frameLengths = new int[0];

    void keepFrames(final FrameBatch frames)
    {
        final int n = frames.count();
        if (frameBuffers.length < n)
        {
            frameBuffers = new DirectBuffer[n];
            frameOffsets = new int[n];
            frameLengths = new int[n];
        }
        for (int i = 0; i < n; i++)
        {
            frameBuffers[i] = frames.buffer(i);
            frameOffsets[i] = frames.offset(i);
            frameLengths[i] = frames.length(i);
        }
    }

    boolean isFragmentGroup(final int position)
    {
        for (int g = 0; g < fragmentGroups; g++)
        {
            if (groupPosition[g] == position)
            {
                return true;
            }
        }
        return false;
    }

    void start(final int seq, final MutableDirectBuffer verdicts, final int verdictOffset, final int count,
        final long tagBase, final long userTag, final long deadlineNs)
    {
        this.inUse = true;
        this.seq = seq;
        this.verdicts = verdicts;
        this.verdictOffset = verdictOffset;
        this.count = count;
        this.tagBase = tagBase;
        this.userTag = userTag;
        this.deadlineNs = deadlineNs;
        this.outstanding = 0;
        this.fragmentGroups = 0;
        this.fragmentTagCount = 0;
        Arrays.fill(this.frameBuffers, null);
    }

    void addFragmentGroup(final int position, final PacketPreprocessor preprocessor)
    {
        if (fragmentGroups == groupPosition.length)
        {
            groupPosition = Arrays.copyOf(groupPosition, fragmentGroups * 2);
            groupStart = Arrays.copyOf(groupStart, fragmentGroups * 2);
            groupLength = Arrays.copyOf(groupLength, fragmentGroups * 2);
        }
        final int n = preprocessor.completedCount();
        if (fragmentTagCount + n > fragmentTags.length)
        {
            fragmentTags = Arrays.copyOf(fragmentTags, Math.max(fragmentTags.length * 2, fragmentTagCount + n));
        }
        groupPosition[fragmentGroups] = position;
        groupStart[fragmentGroups] = fragmentTagCount;
        groupLength[fragmentGroups] = n;
        for (int i = 0; i < n; i++)
        {
            fragmentTags[fragmentTagCount++] = preprocessor.completedTag(i);
        }
        fragmentGroups++;
    }
}
