package worker

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"syscall"

	"golang.org/x/sys/unix"
)

// Workers answer in frames: a 4-byte big-endian length, then that many bytes (JSON, or a
// frame of facts). This file holds what both kinds of worker and their parent share.

// errFrameTooLarge is a frame longer than maxReply; the reader stops the worker.
type errFrameTooLarge uint32

func (e errFrameTooLarge) Error() string {
	return fmt.Sprintf("the worker sent a frame of %d bytes", uint32(e))
}

// readFrame reads one frame of at most maxReply bytes.
func readFrame(rd *bufio.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(rd, n[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(n[:])
	if size > maxReply {
		return nil, errFrameTooLarge(size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(rd, b); err != nil {
		return nil, err
	}
	return b, nil
}

// writeFrame writes b as one frame, and flushes.
func writeFrame(w *bufio.Writer, b []byte) error {
	if err := bufferFrame(w, b); err != nil {
		return err
	}
	return w.Flush()
}

// bufferFrame writes b as one frame into w's buffer, which goes out when it fills or is
// flushed.
func bufferFrame(w *bufio.Writer, b []byte) error {
	if len(b) > maxReply {
		return errFrameTooLarge(len(b))
	}
	if _, err := w.Write(binary.BigEndian.AppendUint32(nil, uint32(len(b)))); err != nil {
		return err
	}
	_, err := w.Write(b)
	return err
}

// sendJSON writes v as one frame of JSON.
func sendJSON(w *bufio.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, b)
}

// killGroup kills a worker and whatever it started.
func killGroup(cmd *exec.Cmd) {
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Process.Kill()
}

// setLimit sets one resource limit of process pid, soft and hard.
func setLimit(pid, res int, v uint64) error {
	return unix.Prlimit(pid, res, &unix.Rlimit{Cur: v, Max: v}, nil)
}
