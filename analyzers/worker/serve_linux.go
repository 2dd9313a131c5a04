package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"runtime/debug"

	"golang.org/x/sys/unix"

	"kensa.dev/kensa/analyzers"
	"kensa.dev/kensa/analyzers/sniff"
)

// maxStackBytes bounds a worker goroutine's stack: deep recursion on hostile input ends
// the worker early instead of growing to the runtime's 1 GB default.
const maxStackBytes = 64 << 20

// Serve is the main loop of a worker process: it analyses the files the parent sends on
// descriptor 3 (each in the transfer area mapped from descriptor 5, or as a descriptor of
// its own) and answers on descriptor 4, until the parent closes descriptor 3. It
// returns the process's exit code. Serve is called by main when it sees Arg; nothing else
// may run in that process.
func Serve() int {
	debug.SetMaxStack(maxStackBytes)
	if os.Getenv(WalkEnv) == "walk" {
		return serveWalk()
	}
	reqFile, respFile := os.NewFile(3, "requests"), os.NewFile(4, "replies")
	if reqFile == nil || respFile == nil {
		fmt.Fprintln(os.Stderr, "kensa: the analysis worker was started without its descriptors; it is started by kensa itself")
		return 2
	}
	c, err := net.FileConn(reqFile)
	reqFile.Close()
	if err != nil {
		fmt.Fprintln(os.Stderr, "kensa: analysis worker:", err)
		return 2
	}
	conn, ok := c.(*net.UnixConn)
	if !ok {
		fmt.Fprintln(os.Stderr, "kensa: analysis worker: descriptor 3 is not a socket")
		return 2
	}
	area, err := mapTransferArea()
	mappedArea = area
	if err != nil {
		fmt.Fprintln(os.Stderr, "kensa: analysis worker:", err)
		return 2
	}
	out := bufio.NewWriterSize(respFile, 64<<10)
	byName := map[string]analyzers.Analyzer{}
	for _, a := range served() {
		byName[a.Name()] = a
	}
	// Say hello: the parent knows the binary serves as a worker (a program that does not
	// would never answer).
	if err := send(out, reply{Done: true}); err != nil {
		return 2
	}
	buf := make([]byte, maxRequest+1)
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		n, oobn, _, _, err := conn.ReadMsgUnix(buf, oob)
		if err != nil || n == 0 {
			return 0 // the parent is done with this worker
		}
		var req request
		if err := json.Unmarshal(buf[:n], &req); err != nil || req.Limits == nil {
			fmt.Fprintln(os.Stderr, "kensa: analysis worker: bad request:", err)
			return 2
		}
		a := &analyzers.Artifact{Path: req.Path, Format: sniff.Format(req.Format), Interpreter: req.Interpreter,
			Mode: req.Mode, Size: req.Size, Limits: req.Limits}
		var f *os.File
		switch {
		case req.Loaded >= 0 && oobn == 0:
			if req.Loaded > int64(len(area)) || req.Loaded > req.Size {
				fmt.Fprintf(os.Stderr, "kensa: analysis worker: bad request: %d bytes loaded of %d, in a transfer area of %d\n", req.Loaded, req.Size, len(area))
				return 2
			}
			a.Content = bytes.NewReader(area[:req.Loaded])
		case req.Loaded < 0:
			if f, err = receivedFile(oob[:oobn]); err != nil {
				fmt.Fprintln(os.Stderr, "kensa: analysis worker:", err)
				return 2
			}
			a.Content = io.NewSectionReader(f, req.Offset, req.Size)
		default:
			fmt.Fprintln(os.Stderr, "kensa: analysis worker: bad request: a descriptor came with a file in the transfer area")
			return 2
		}
		for _, name := range req.Analyzers {
			rep := reply{Analyzer: name}
			an, ok := byName[name]
			if !ok {
				rep.Err = &wireError{Kind: "other", Message: fmt.Sprintf("the analysis worker has no analyzer %q", name)}
			} else if outs := analyzers.Run(context.Background(), []analyzers.Analyzer{an}, a); len(outs) == 1 {
				if outs[0].Facts != nil {
					if rep.Facts, err = json.Marshal(outs[0].Facts); err != nil {
						rep.Err = &wireError{Kind: "other", Message: "encoding the facts: " + err.Error()}
						rep.Facts = nil
					}
				}
				if rep.Err == nil {
					rep.Err = toWire(name, outs[0].Err)
				}
			}
			if err := send(out, rep); err != nil {
				return 2
			}
		}
		if f != nil {
			f.Close()
		}
		if err := send(out, reply{Done: true}); err != nil {
			return 2
		}
	}
}

// receivedFile is the one descriptor passed with a request.
func receivedFile(oob []byte) (*os.File, error) {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil || len(msgs) != 1 {
		return nil, fmt.Errorf("a request came without the file to analyse")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, fd := range fds {
			unix.Close(fd)
		}
		return nil, fmt.Errorf("a request came with %d descriptors, want 1", len(fds))
	}
	return os.NewFile(uintptr(fds[0]), "artifact"), nil
}

// send writes one reply as a frame and flushes it.
func send(w *bufio.Writer, rep reply) error { return sendJSON(w, rep) }
