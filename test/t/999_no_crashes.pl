# test/t/999_no_crashes.pl
#
# Runs last.  No server process died of a signal anywhere in the suite: the
# logs of the throwaway servers of pg_regress (log/) and
# pg_isolation_regress (output_iso/log/), of every TAP test's nodes
# (tmp_check/log), and any named in PROFILE_EXT_SERVER_LOGS must not say
# "terminated by signal".
# A crash of one backend restarts the whole cluster, so one line is enough
# to fail.
use strict;
use warnings;
use PostgreSQL::Test::Utils;
use Test::More;

sub crashes
{
	my ($text) = @_;
	return grep { /terminated by signal/ } split /\n/, $text;
}

# the check itself: a crash line is found, an ordinary log is not
is(scalar(crashes("LOG:  server process (PID 123) was terminated by signal 11: Segmentation fault\n")),
	1, 'a crash line is recognised');
is(scalar(crashes("LOG:  database system is ready to accept connections\n")), 0,
	'an ordinary log is not');

my @logs = glob("$ENV{TESTDIR}/tmp_check/log/*.log");
push @logs, grep { -e $_ } ("$ENV{TESTDIR}/log/postmaster.log",
	"$ENV{TESTDIR}/output_iso/log/postmaster.log");
push @logs, grep { $_ ne '' } split /:/, ($ENV{PROFILE_EXT_SERVER_LOGS} // '');
foreach my $log (@logs)
{
	ok(-r $log, "$log is readable") or next;
	my @lines = crashes(slurp_file($log));
	is(scalar @lines, 0, "no process terminated by a signal in $log")
	  or diag(join("\n", @lines));
}
ok(scalar @logs > 0, 'there were logs to check');
done_testing();
