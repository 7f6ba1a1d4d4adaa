// Package cluster spreads a kmsload run over several machines through NSQ
// (nsqd as the broker, github.com/nsqio/go-nsq as the client) and merges
// their results exactly.
//
// A Coordinator waits for Agents (they announce themselves with
// heartbeats), estimates each agent's clock offset with NTP-style probes
// over NSQ, and sends a Plan: the scenario, the options and the list of
// agents. Agent i of N runs the same driver as `kmsload run`, with
// traffic.Share{Index: i, Count: N}: each workload's rate divided by N, so
// that the agents together keep the arrival process (constant spacing for
// constant and phased arrivals, a Poisson process for Poisson arrivals).
// When every agent has prepared its keys, the coordinator sends a common
// start time, which each agent converts to its own clock. With
// Plan.Isolate there is one measured window per workload, then the
// combined one, as in `kmsload run --isolate`: each window starts at its
// own common start time, once every agent is ready for it.
//
// Every second an agent publishes a Snapshot: what its driver's recorder
// observed since the previous one (record.Snapshotter, which reads the
// recorder and counts nothing itself), tagged with its name, the window
// and a sequence number: counters, per-second series, attempts per quota
// bucket, the recorder's closed 1-second latency intervals (HDR-encoded)
// and service times. The coordinator adds them (record.Merge), one merge
// per window, so the merged histograms and counts are exactly those of
// the agents' recorders added. NSQ delivers at least
// once: snapshots already merged are dropped by (agent, sequence number);
// missing ones are asked for again; agents keep every snapshot until the
// run ends and send again those not acknowledged, so an nsqd restart loses
// nothing. An agent that falls silent makes the run partial
// (report.StopAgentLost), naming the agent and the seconds missing.
//
// Topics: TOPIC.control (coordinator to agents) and TOPIC.agents (agents
// to coordinator), on ephemeral channels; TOPIC is Conn.Topic, "kmsload"
// by default. Every blocking call takes a context, go-nsq's context-less
// publishing included; the goroutines of an Agent start in one group and
// stop when its context ends.
package cluster
