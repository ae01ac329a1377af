package io.ctrack.engine.flow;

/**
 * The match of one flow, compiled: each field either wildcarded or compared under a mask. Immutable once built by
 * {@link FlowParser}.
 */
public final class Match
{
    static final int ANY = -1;

    int inPort = ANY;
    int dlType = ANY;
    int nwProto = ANY;
    long srcHi;
    long srcLo;
    long srcMaskHi;
    long srcMaskLo;
    long dstHi;
    long dstLo;
    long dstMaskHi;
    long dstMaskLo;
    int tpSrc;
    int tpSrcMask;
    int tpDst;
    int tpDstMask;
    int ctStateSet;
    int ctStateClear;
    int ctZone = ANY;
    int ctMark;
    int ctMarkMask;
    long ctLabelLo;
    long ctLabelHi;
    long ctLabelMaskLo;
    long ctLabelMaskHi;

    /** Whether any ct field is matched (a flow that matches none does not depend on connection state). */
    boolean matchesCt()
    {
        return ctStateSet != 0 || ctStateClear != 0 || ctZone != ANY || ctMarkMask != 0
            || (ctLabelMaskLo | ctLabelMaskHi) != 0;
    }

    public boolean matches(final PacketFields f)
    {
        return (inPort == ANY || inPort == f.inPort)
            && (dlType == ANY || dlType == f.dlType)
            && (nwProto == ANY || nwProto == f.nwProto)
            && ((f.srcHi ^ srcHi) & srcMaskHi) == 0 && ((f.srcLo ^ srcLo) & srcMaskLo) == 0
            && ((f.dstHi ^ dstHi) & dstMaskHi) == 0 && ((f.dstLo ^ dstLo) & dstMaskLo) == 0
            && ((f.tpSrc ^ tpSrc) & tpSrcMask) == 0 && ((f.tpDst ^ tpDst) & tpDstMask) == 0
            && (f.ctState & ctStateSet) == ctStateSet && (f.ctState & ctStateClear) == 0
            && (ctZone == ANY || ctZone == f.ctZone)
            && ((f.ctMark ^ ctMark) & ctMarkMask) == 0
            && ((f.ctLabelLo ^ ctLabelLo) & ctLabelMaskLo) == 0 && ((f.ctLabelHi ^ ctLabelHi) & ctLabelMaskHi) == 0;
    }
}
