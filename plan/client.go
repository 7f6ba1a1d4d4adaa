package plan

import (
	"github.com/kmsload/kmsload/report"
	"github.com/kmsload/kmsload/scenario"
)

// ClientInfo returns the effective client e of a run at scale as results
// show it (without the workloads that share it: report.AnnotateClients
// adds them). A run (driver) and a simulation (sim) describe their
// clients with it, so their results show the same settings.
func ClientInfo(e scenario.EffectiveClient, scale float64) report.ClientInfo {
	info := report.ClientInfo{
		Name:        e.Name,
		Shared:      e.Shared,
		Retry:       report.ClientSetting(e.Sources.Retry),
		MaxAttempts: report.ClientSetting(e.Sources.MaxAttempts),
		MaxBackoff:  report.ClientSetting(e.Sources.MaxBackoff),
		RetryBucket: report.ClientSetting(e.Sources.RetryBucket),
	}
	if e.Retry != scenario.RetryNone {
		if n := e.ScaledTokens(scale); n != scenario.RetryBucketNone {
			info.RetryTokens = n
		}
	}
	return info
}
