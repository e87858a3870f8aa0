package statesync

import "failover/engine/api"

// Status is stateful failover's part of the machine-readable status (a
// copy, for the metrics and fosh --json status).
func (r *Replicator) Status() *api.StateSyncStat {
	st, c := r.Stats(), r.Counts()
	objs := map[string]uint64{}
	for name, ctr := range map[string]Counter{"xlate": st.Xlate, "tcp": st.TCP, "udp": st.UDP} {
		objs[name+"/xmit"], objs[name+"/xerr"] = ctr.Xmit, ctr.Xerr
		objs[name+"/rcv"], objs[name+"/rerr"] = ctr.Rcv, ctr.Rerr
	}
	return &api.StateSyncStat{
		Enabled: r.Enabled(), Conns: c.Conns, Xlates: c.Xlates,
		ByProto: map[string]int{"tcp": c.TCP, "udp": c.UDP, "icmp": c.ICMP}, Objects: objs,
		RecvQueue: st.RecvCur, RecvMax: st.RecvMax, XmitQueue: st.XmitCur, XmitMax: st.XmitMax,
		BulkSyncs: st.BulkSyncs, Malformed: st.Malformed,
	}
}
