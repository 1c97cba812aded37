package soak

import (
	"testing"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }
