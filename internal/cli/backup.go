package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/tenantry/tenantry/api/wellknown"
	"github.com/tenantry/tenantry/internal/backup"
)

func newBackupCommand() *cobra.Command {
	var hostKubeconfig, output string
	cmd := &cobra.Command{
		Use:   "backup TENANT",
		Short: "Save a tenant's virtual cluster state (every stored object) to a file",
		Long: `backup port-forwards to the tenant's control plane pod and reads every object its
kube-apiserver stored, in one consistent read of kine's etcd API, whatever the datastore
(SQLite or external). The file holds the virtual cluster's Secrets: it is written mode 0600;
keep it as you keep credentials. Restore it with tenantry restore.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBackup(cmd.Context(), cmd.ErrOrStderr(), args[0], hostKubeconfig, output)
		},
	}
	cmd.Flags().StringVar(&hostKubeconfig, "kubeconfig", "", "kubeconfig of the host cluster (default in-cluster, then $KUBECONFIG)")
	cmd.Flags().StringVarP(&output, "output", "o", "", "the backup file to write (mode 0600); required")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newRestoreCommand() *cobra.Command {
	var hostKubeconfig, file string
	cmd := &cobra.Command{
		Use:   "restore TENANT",
		Short: "Restore a tenant's virtual cluster state from a tenantry backup file",
		Long: `restore port-forwards to the tenant's control plane pod and writes back every object of
the backup that its store lacks, as kube-apiserver creates objects; objects it holds are kept
as they are. The backup must be of the same tenant.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd.Context(), cmd.ErrOrStderr(), args[0], hostKubeconfig, file)
		},
	}
	cmd.Flags().StringVar(&hostKubeconfig, "kubeconfig", "", "kubeconfig of the host cluster (default in-cluster, then $KUBECONFIG)")
	cmd.Flags().StringVarP(&file, "file", "f", "", "the backup file to restore; required")
	_ = cmd.MarkFlagRequired("file")
	return cmd
}

func runBackup(ctx context.Context, errOut io.Writer, name, hostKubeconfig, output string) error {
	var f *backup.File
	version := ""
	err := withStore(ctx, name, hostKubeconfig, func(ctx context.Context, kv clientv3.KV, kubernetesVersion string) error {
		var err error
		f, err = backup.Save(ctx, kv)
		version = kubernetesVersion
		return err
	})
	if err != nil {
		return err
	}
	f.Tenant, f.KubernetesVersion, f.Created = name, version, time.Now().UTC()
	out, err := os.OpenFile(output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err := backup.Write(out, f); err != nil {
		_ = out.Close()
		return fmt.Errorf("writing the backup: %w", err)
	}
	if err := out.Close(); err != nil {
		return fmt.Errorf("writing the backup: %w", err)
	}
	fmt.Fprintf(errOut, "tenant %s: %d objects at revision %d saved to %s\n", name, len(f.Entries), f.Revision, output)
	return nil
}

func runRestore(ctx context.Context, errOut io.Writer, name, hostKubeconfig, file string) error {
	in, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("reading the backup: %w", err)
	}
	f, err := backup.Read(in)
	_ = in.Close()
	if err != nil {
		return err
	}
	if f.Tenant != name {
		return fmt.Errorf("the backup is of tenant %q, not %q", f.Tenant, name)
	}
	var r backup.Result
	err = withStore(ctx, name, hostKubeconfig, func(ctx context.Context, kv clientv3.KV, _ string) error {
		var err error
		r, err = backup.Restore(ctx, kv, f)
		return err
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(errOut, "tenant %s: %d objects restored, %d already there kept\n", name, r.Created, r.Kept)
	return nil
}

// storeTimeout bounds a backup's read or a restore's writes: an unreachable store fails
// instead of hanging.
const storeTimeout = 5 * time.Minute

// withStore port-forwards to the tenant's control plane pod's kine and calls fn with an etcd
// client of it and the virtual cluster's Kubernetes version, within storeTimeout.
func withStore(ctx context.Context, name, hostKubeconfig string, fn func(context.Context, clientv3.KV, string) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	cfg, c, err := hostClients(hostKubeconfig)
	if err != nil {
		return err
	}
	t, _, err := loadTenantAccess(ctx, c, name)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pod := controlPlanePod(t)
	giveUp := time.AfterFunc(30*time.Second, cancel) // a forward not listening by then is given up
	port, _, err := startForward(ctx, cfg, t, "127.0.0.1", "0:"+strconv.Itoa(wellknown.VClusterKinePort))
	if !giveUp.Stop() {
		return fmt.Errorf("port-forward to %s/%s: not listening after 30s", t.HostNamespace(), pod)
	}
	if err != nil {
		return fmt.Errorf("port-forward to %s/%s: %w", t.HostNamespace(), pod, err)
	}
	etcd, err := clientv3.New(clientv3.Config{Endpoints: []string{"127.0.0.1:" + strconv.Itoa(int(port.Local))},
		DialTimeout: 10 * time.Second, Context: ctx, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("reaching the virtual cluster's store: %w", err)
	}
	defer func() { _ = etcd.Close() }()
	version := ""
	if t.Status.ControlPlane != nil {
		version = t.Status.ControlPlane.Version
	}
	opCtx, stop := context.WithTimeout(ctx, storeTimeout)
	defer stop()
	if err := fn(opCtx, etcd, version); err != nil {
		return fmt.Errorf("tenant %s: %w", name, err)
	}
	return nil
}
