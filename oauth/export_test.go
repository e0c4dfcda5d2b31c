package oauth

// FlowState is the state cookie's content, for tests that play an
// attacker editing their own cookie.
type FlowState = flowState

// DecodeFlowState and Encode read and write a state cookie's value.
var DecodeFlowState = decodeFlowState

func (s flowState) Encode() string { return s.encode() }

// LocalPath is the return path check.
var LocalPath = localPath
