//  fork/exec supervision with restart back-off. Children are put in their
//  own process group so that Ctrl-C in the terminal reaches only us, and we
//  decide the order in which they stop (gateway before broker, so nothing
//  in flight is cut off). Being in other process groups, they would outlive
//  a supervisor that is killed outright (SIGKILL, a crash): each child asks
//  the kernel for SIGTERM when its parent dies (PR_SET_PDEATHSIG), so the
//  ports they hold are freed with us.
#include "supervisor.h"
#include "zhub_common.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_MAX_CHILDREN 16

typedef struct {
    char *name;
    char **argv;
    char *env_name, *env_value; //  one variable of its own (NULL: none)
    pid_t pid;
    int restarts;
    int64_t restart_at;   //  monotonic ms; 0 = not waiting
} s_child_t;

struct zhub_supervisor_t {
    s_child_t children[S_MAX_CHILDREN];
    int count;
    bool stopping;
};

zhub_supervisor_t *
zhub_supervisor_new (void)
{
    return zhub_calloc (1, sizeof (zhub_supervisor_t));
}

void
zhub_supervisor_destroy (zhub_supervisor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    zhub_supervisor_t *self = *self_p;
    zhub_supervisor_stop_all (self, 5000);
    for (int i = 0; i < self->count; i++) {
        for (char **arg = self->children[i].argv; *arg; arg++)
            free (*arg);
        free (self->children[i].argv);
        free (self->children[i].name);
        free (self->children[i].env_name);
        free (self->children[i].env_value);
    }
    free (self);
    *self_p = NULL;
}

int
zhub_supervisor_add (zhub_supervisor_t *self, const char *name, char *const argv[])
{
    if (self->count == S_MAX_CHILDREN)
        return -1;
    s_child_t *child = &self->children[self->count++];
    int argc = 0;
    while (argv[argc])
        argc++;
    child->argv = zhub_calloc (argc + 1, sizeof (char *));
    for (int i = 0; i < argc; i++)
        child->argv[i] = zhub_strdup (argv[i]);
    child->name = zhub_strdup (name);
    return 0;
}

int
zhub_supervisor_setenv (zhub_supervisor_t *self, int index, const char *name, const char *value)
{
    if (index < 0 || index >= self->count)
        return -1;
    s_child_t *child = &self->children[index];
    free (child->env_name);
    free (child->env_value);
    child->env_name = zhub_strdup (name);
    child->env_value = zhub_strdup (value);
    return 0;
}

pid_t
zhub_supervisor_start (zhub_supervisor_t *self, int index)
{
    s_child_t *child = &self->children[index];
    pid_t parent = getpid ();
    pid_t pid = fork ();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        //  SIGTERM when the supervisor dies, however it dies; it survives
        //  execv. The supervisor may have died between fork and prctl, in
        //  which case no signal will come: then we are already orphaned.
        if (prctl (PR_SET_PDEATHSIG, SIGTERM) || getppid () != parent)
            _exit (127);
        setpgid (0, 0);
        //  What the supervisor ignores or catches is not the child's
        //  business: ignored signals would survive execv.
        signal (SIGINT, SIG_DFL);
        signal (SIGTERM, SIG_DFL);
        signal (SIGCHLD, SIG_DFL);
        signal (SIGHUP, SIG_DFL);
        signal (SIGPIPE, SIG_DFL);
        if (child->env_name)
            setenv (child->env_name, child->env_value, 1);
        execv (child->argv[0], child->argv);
        fprintf (stderr, "zhub up: cannot start %s (%s): %s\n", child->name, child->argv[0],
                 strerror (errno));
        _exit (127);
    }
    child->pid = pid;
    child->restart_at = 0;
    return pid;
}

int
zhub_supervisor_tick (zhub_supervisor_t *self)
{
    int status;
    pid_t pid;
    while ((pid = waitpid (-1, &status, WNOHANG)) > 0) {
        for (int i = 0; i < self->count; i++) {
            s_child_t *child = &self->children[i];
            if (child->pid != pid)
                continue;
            child->pid = 0;
            if (self->stopping)
                break;
            //  1 s, 2 s, 4 s ... up to 30 s between restarts
            int64_t pause = 1000LL << (child->restarts < 5 ? child->restarts : 5);
            if (pause > 30000)
                pause = 30000;
            child->restarts++;
            child->restart_at = zhub_mono_ms () + pause;
            fprintf (stderr, "zhub up: %s exited (%s %d); restarting in %lld ms\n", child->name,
                     WIFSIGNALED (status) ? "signal" : "status",
                     WIFSIGNALED (status) ? WTERMSIG (status) : WEXITSTATUS (status),
                     (long long) pause);
        }
    }
    int restarted = 0;
    int64_t now = zhub_mono_ms ();
    for (int i = 0; i < self->count && !self->stopping; i++) {
        s_child_t *child = &self->children[i];
        if (!child->pid && child->restart_at && now >= child->restart_at) {
            zhub_supervisor_start (self, i);
            restarted++;
        }
    }
    return restarted;
}

static bool
s_wait_exit (pid_t pid, int timeout_ms)
{
    int64_t deadline = zhub_mono_ms () + timeout_ms;
    while (zhub_mono_ms () < deadline) {
        pid_t rc = waitpid (pid, NULL, WNOHANG);
        if (rc == pid || (rc < 0 && errno == ECHILD))
            return true;
        usleep (20000);
    }
    return false;
}

int
zhub_supervisor_stop_all (zhub_supervisor_t *self, int grace_ms)
{
    self->stopping = true;
    int rc = 0;
    for (int i = self->count - 1; i >= 0; i--) {
        s_child_t *child = &self->children[i];
        if (!child->pid)
            continue;
        kill (child->pid, SIGTERM);
        if (!s_wait_exit (child->pid, grace_ms)) {
            fprintf (stderr, "zhub up: %s did not stop in %d ms; killing it\n", child->name,
                     grace_ms);
            kill (child->pid, SIGKILL);
            s_wait_exit (child->pid, 2000);
            rc = -1;
        }
        child->pid = 0;
    }
    return rc;
}
