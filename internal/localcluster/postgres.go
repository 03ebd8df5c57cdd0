package localcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/tenantry/tenantry/internal/freeport"
	"github.com/tenantry/tenantry/internal/supervise"
)

// ErrNoPostgres is returned when Debian's postgresql package (hack/node-deps.sh installs it)
// is not on this machine.
var ErrNoPostgres = errors.New("PostgreSQL is not installed (Debian package postgresql; run `make node` as root)")

// Postgres is a throwaway PostgreSQL server of the test bed, from Debian's postgresql
// package: the external datastore a tenant's virtual cluster may use.
type Postgres struct {
	// Addr is where it listens, host:port.
	Addr string
	dir  string
	proc *process
}

// StartPostgres initialises a database cluster in a new temporary directory (Stop removes
// it) and serves it on ip, with a role and database named db whose password is password. As
// root it runs as the postgres user, so the directory is made where that user can reach it.
func StartPostgres(ctx context.Context, ip, db, password string) (_ *Postgres, err error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	cred, err := postgresUser()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "tenantry-postgres-")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	p := &Postgres{dir: dir}
	defer func() {
		if err != nil {
			p.Stop()
		}
	}()
	data, sock := filepath.Join(dir, "data"), filepath.Join(dir, "sock")
	if err := p.initdb(ctx, bin, data, sock, cred, password); err != nil {
		return nil, err
	}
	port, err := freeport.Pick()
	if err != nil {
		return nil, err
	}
	p.Addr = net.JoinHostPort(ip, strconv.Itoa(port))
	p.proc, err = startSpec(dir, supervise.Spec{Name: "postgres", Path: filepath.Join(bin, "postgres"), Credential: cred,
		Args: []string{"-D", data, "-c", "listen_addresses=" + ip, "-p", strconv.Itoa(port), "-k", sock}})
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ready := func(ctx context.Context) error {
		return p.run(ctx, cred, filepath.Join(bin, "pg_isready"), "-q", "-h", sock, "-p", strconv.Itoa(port))
	}
	if err := waitFor(wctx, p.proc, "postgres accepting connections", ready); err != nil {
		return nil, fmt.Errorf("postgres: %w\n%s", err, p.proc.tail(20))
	}
	role := fmt.Sprintf("CREATE ROLE %s LOGIN PASSWORD '%s'", db, password)
	err = p.run(ctx, cred, filepath.Join(bin, "psql"), "-h", sock, "-p", strconv.Itoa(port), "-U", "postgres", "-v", "ON_ERROR_STOP=1",
		"-c", role, "-c", "CREATE DATABASE "+db+" OWNER "+db)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// initdb makes the database cluster in data, with the superuser's password and host
// connections from anywhere by password.
func (p *Postgres) initdb(ctx context.Context, bin, data, sock string, cred *syscall.Credential, password string) error {
	if err := p.prepare(sock, cred, password); err != nil {
		return err
	}
	if err := p.run(ctx, cred, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth-local=trust",
		"--auth-host=scram-sha-256", "--pwfile="+filepath.Join(p.dir, "pwfile"), "-E", "UTF8", "--no-instructions"); err != nil {
		return err
	}
	hba, err := os.OpenFile(filepath.Join(data, "pg_hba.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	_, err = hba.WriteString("host all all 0.0.0.0/0 scram-sha-256\n")
	if cerr := hba.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("postgres: pg_hba.conf: %w", err)
	}
	return nil
}

// URL is the connection string of database db as user db with password.
func (p *Postgres) URL(db, password string) string {
	u := url.URL{Scheme: "postgres", User: url.UserPassword(db, password), Host: p.Addr, Path: "/" + db, RawQuery: "sslmode=disable"}
	return u.String()
}

// Stop shuts the server down, waits for it and removes its directory.
func (p *Postgres) Stop() {
	if p.proc != nil {
		p.proc.Stop(20 * time.Second)
	}
	_ = os.RemoveAll(p.dir)
}

// postgresBin is the newest installed PostgreSQL's bin directory.
func postgresBin() (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	if len(dirs) == 0 {
		return "", ErrNoPostgres
	}
	slices.SortFunc(dirs, func(a, b string) int { return versionOf(a) - versionOf(b) })
	return dirs[len(dirs)-1], nil
}

func versionOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// postgresUser is the identity PostgreSQL runs as: the postgres user when this process is
// root (it refuses to run as root), else nil (this process's own).
func postgresUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// prepare makes dir and the socket directory, and writes the superuser's password file,
// all owned by the server's user.
func (p *Postgres) prepare(sock string, cred *syscall.Credential, password string) error {
	if err := os.MkdirAll(sock, 0o700); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	pw := filepath.Join(p.dir, "pwfile")
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	if cred == nil {
		return nil
	}
	for _, path := range []string{p.dir, sock, pw} {
		if err := os.Chown(path, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("postgres: %w", err)
		}
	}
	return nil
}

// run runs a PostgreSQL command as the server's user and returns its output on failure.
func (p *Postgres) run(ctx context.Context, cred *syscall.Credential, path string, args ...string) error {
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = p.dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("postgres: %s: %w: %s", filepath.Base(path), err, out)
	}
	return nil
}
